package dev.switchboard.log;

import java.util.Locale;
import org.rocksdb.RocksDBException;
import org.rocksdb.Status;

/**
 * The store failed (disk full, corruption, I/O error). Changes it affects are answered 503 and not acknowledged. The
 * message may name files of the data directory: it goes to the server's log only; clients get {@link #reason()}.
 */
public final class LogException extends RuntimeException {
    public LogException(String message, Throwable cause) {
        super(message, cause);
    }

    /** What failed, in words that reveal nothing of the server's files: for clients and {@code /readyz}. */
    public String reason() {
        if (getCause() instanceof RocksDBException e && e.getStatus() != null) {
            Status status = e.getStatus();
            if (status.getSubCode() == Status.SubCode.NoSpace) {
                return "no space left on device";
            }
            if (status.getCode() == Status.Code.IOError) {
                return "I/O error";
            }
        }
        String text = String.valueOf(getMessage()).toLowerCase(Locale.ROOT);
        if (text.contains("no space left")) {
            return "no space left on device";
        }
        return "store error";
    }
}
