package dev.switchboard.codec.sse;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.broker.Message;
import dev.switchboard.codec.http.HttpResponses;
import dev.switchboard.jobs.JobService;
import dev.switchboard.jobs.JobStatus;
import java.io.IOException;

/** How a stream turns a topic's messages into events, and which message ends the stream. */
interface SseFormat {
    byte[] event(Message m);

    /** Whether the message is the stream's last: none is, but for a job's terminal status. */
    default boolean endsStream(Message m) {
        return false;
    }

    /** A topic: every message is an {@code event: message} carrying the payload. */
    SseFormat TOPIC = m -> m.encoded(SseEvents.MESSAGE_SLOT, SseEvents::message);

    /**
     * A topic in envelope format: every message is an {@code event: message} carrying its envelope. A stream over
     * many topics sends the same events, its own cursor in place of their {@code id:} line.
     */
    SseFormat TOPIC_ENVELOPE = m -> m.encoded(SseEvents.ENVELOPE_SLOT, SseEvents::envelope);

    /** A job: {@code status} and {@code progress} events carrying the job JSON; ends after a terminal status. */
    SseFormat JOB = new SseFormat() {
        @Override
        public byte[] event(Message m) {
            return m.encoded(SseEvents.JOB_EVENT_SLOT, SseEvents::jobEvent);
        }

        @Override
        public boolean endsStream(Message m) {
            if (!m.type().equals(JobService.STATUS_EVENT_TYPE)) {
                return false;
            }
            try {
                JsonNode status = HttpResponses.MAPPER.readTree(m.payload()).get("status");
                return status != null && JobStatus.fromWire(status.asText()).isTerminal();
            } catch (IOException | IllegalArgumentException e) {
                return false;
            }
        }
    };
}
