// bench/run's BullMQ peer of `switchboard bench jobs` (switchboard-loadtest/.../JobsBenchmark.java): the same closed
// loop on BullMQ over Redis, printing one JSON line with the same fields as `bench jobs --json`.
//
//   node bench/bullmq/jobs.mjs --redis redis://127.0.0.1:6379 --submitters 64 --workers 16 --size 64 \
//       --duration 10s --warmup 5s
//
// Submitters: each adds a job carrying a --size byte payload and waits for its result with
// Job.waitUntilFinished(queueEvents), BullMQ's request/response idiom, then adds the next. Workers: one BullMQ Worker
// with `concurrency: --workers`, whose processor returns the payload at once as the result (as `bench jobs`'s
// workers complete with the payload). One Worker with concurrency N is how BullMQ runs N jobs side by side in one
// Node process: N Worker objects would each open their own pair of Redis connections and block on the same
// queue, while a Node process still has one event loop to run them on; concurrency lets the one Worker fetch the
// next job as it completes the last (moveToFinished answers with it) and block on Redis only when the queue is empty.
// In short alternating runs on the 2-core bench machine (64 callers, 16 workers), neither 16 Workers of concurrency
// 1 nor the Worker moved to a worker thread did better than this, within the run-to-run spread.
//
// Latency is submit → result (queue.add called → waitUntilFinished resolved), in microseconds, kept as raw samples
// (a Float64Array; a 10 s run holds at most some hundred thousand) and sorted at the end: p50/p99/p99.9 are the
// nearest-rank sample (the ceil(p·n)-th smallest), as HdrHistogram's getValueAtPercentile picks, without its
// bucketing.
import { Queue, QueueEvents, Worker } from 'bullmq';
import { parseArgs } from 'node:util';

const usage = `Usage: node jobs.mjs --redis redis://HOST:PORT [--submitters N] [--workers N] [--size BYTES]
                    [--duration 10s] [--warmup 2s]
  --submitters  closed-loop submitters, 0 = twice the workers (default 0)
  --workers     jobs the Worker runs side by side (concurrency, default 4)
  --size        payload bytes per job (default 64)
  --duration    measured time, after the warmup (default 10s); --warmup: time left out (default 2s)
Prints one JSON line (the fields of \`switchboard bench jobs --json\`, plus "target":"bullmq"); progress on stderr.
Exit 0 when the run saw no error, 1 otherwise, 2 on a usage error.`;

function fail(message) {
  console.error(`jobs.mjs: ${message}\n${usage}`);
  process.exit(2);
}

/** "10s", "500ms", "1m" or a bare number of seconds, in milliseconds. */
function millis(text, name) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text);
  if (!m) fail(`${name} must be a duration such as 10s or 500ms, not ${text}`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60000 }[m[2] ?? 's'];
}

function count(text, name, min) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) fail(`${name} must be an integer >= ${min}, not ${text}`);
  return n;
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
      submitters: { type: 'string', default: '0' },
      workers: { type: 'string', default: '4' },
      size: { type: 'string', default: '64' },
      duration: { type: 'string', default: '10s' },
      warmup: { type: 'string', default: '2s' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (e) {
  fail(e.message);
}
if (args.help) {
  console.log(usage);
  process.exit(0);
}
const workers = count(args.workers, '--workers', 1);
const submitters = count(args.submitters, '--submitters', 0) || 2 * workers;
const size = count(args.size, '--size', 1);
const durationMs = millis(args.duration, '--duration');
const warmupMs = millis(args.warmup, '--warmup');
const redis = new URL(args.redis);
if (redis.protocol !== 'redis:') fail(`--redis must be redis://HOST:PORT, not ${args.redis}`);

// maxRetriesPerRequest: null is what BullMQ asks of a Worker's connections: a blocked command is not retried away.
const connection = { host: redis.hostname, port: Number(redis.port || 6379), maxRetriesPerRequest: null };
const queueName = `bench-jobs.${Math.random().toString(36).slice(2, 12)}`;   // fresh per run
const submitWaitMs = 30_000;   // as `bench jobs`'s ?wait=30s
const payload = 'x'.repeat(size);

// Finished jobs are trimmed to the last 1,000 so Redis's memory stays flat. Not removeOnComplete: true, which deletes
// the job in the same step that completes it: waitUntilFinished checks once, after subscribing, whether the job has
// already finished, and a job already deleted then reads as "Missing key for job", a failure.
const queue = new Queue(queueName, {
  connection,
  defaultJobOptions: { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } },
});
// Each waiting submitter listens for the queue's 'closing': more than Node's default warning threshold of 10.
queue.setMaxListeners(submitters + 10);
const events = new QueueEvents(queueName, { connection });
const worker = new Worker(queueName, async (job) => job.data, { connection, concurrency: workers });

let measuring = false;
let stopSubmitting = false;
let completed = 0;
let samples = new Float64Array(1 << 16);
let sampled = 0;
let errors = 0;
const errorSamples = [];

function error(sample) {
  if (stopSubmitting) return;   // requests cut short by the end of the run
  errors++;
  if (errorSamples.length < 5) errorSamples.push(sample);
}
worker.on('error', (e) => error(`worker failed: ${e.message}`));
events.on('error', (e) => error(`queue events failed: ${e.message}`));
queue.on('error', (e) => error(`queue failed: ${e.message}`));

function record(micros) {
  if (sampled === samples.length) {
    const grown = new Float64Array(samples.length * 2);
    grown.set(samples);
    samples = grown;
  }
  samples[sampled++] = micros;
}

async function submit() {
  while (!stopSubmitting) {
    const t0 = process.hrtime.bigint();
    try {
      const job = await queue.add('bench', payload);
      const result = await job.waitUntilFinished(events, submitWaitMs);
      if (result !== payload) {
        error(`job ${job.id} answered ${JSON.stringify(result).slice(0, 100)}`);
        continue;
      }
      if (measuring) {
        record(Math.max(1, Number(process.hrtime.bigint() - t0) / 1000));
        completed++;
      }
    } catch (e) {
      error(`submit failed: ${e.message}`);
    }
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted, n, p) {
  return n === 0 ? 0 : sorted[Math.max(1, Math.ceil((p / 100) * n)) - 1];
}

// ioredis reconnects forever by default: give up on a Redis that does not answer within 10 s.
const unready = setTimeout(() => {
  console.error(`jobs.mjs: no answer from ${args.redis} within 10 s`);
  process.exit(1);
}, 10_000);
await Promise.all([queue.waitUntilReady(), events.waitUntilReady(), worker.waitUntilReady()]);
clearTimeout(unready);
const loops = Array.from({ length: submitters }, submit);
await sleep(warmupMs);
completed = 0;
sampled = 0;
measuring = true;
const start = process.hrtime.bigint();
const elapsed = () => Number(process.hrtime.bigint() - start) / 1e9;
while (elapsed() * 1000 < durationMs) {
  await sleep(Math.min(1000, Math.ceil(durationMs - elapsed() * 1000)));
  console.error(`${elapsed().toFixed(1).padStart(5)}s  ${completed.toLocaleString('en-US')} jobs`);
}
measuring = false;
const seconds = elapsed();
const jobs = completed;
const sorted = samples.subarray(0, sampled).sort();
const ms = (micros) => micros / 1000;
// Submitters stop first, so the Worker still finishes the jobs they wait for.
stopSubmitting = true;
await Promise.all(loops);
await worker.close();
await events.close();
await queue.close();

console.log(JSON.stringify({
  target: 'bullmq', workers, submitters, size, durationSeconds: seconds, jobs, jobsPerSecond: jobs / seconds,
  latencyMs: {
    samples: sampled, p50: ms(percentile(sorted, sampled, 50)), p99: ms(percentile(sorted, sampled, 99)),
    p999: ms(percentile(sorted, sampled, 99.9)), max: ms(sampled === 0 ? 0 : sorted[sampled - 1]),
  },
  errors: { total: errors }, errorSamples,
}));
process.exit(errors > 0 ? 1 : 0);
