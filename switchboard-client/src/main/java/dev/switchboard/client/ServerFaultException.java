package dev.switchboard.client;

/** A fault of the server's own ({@code internal}), or an answer this client cannot read. */
public class ServerFaultException extends SwitchboardException {
    public ServerFaultException(String wireCode, int status, String message) {
        super(wireCode, status, message, null);
    }
}
