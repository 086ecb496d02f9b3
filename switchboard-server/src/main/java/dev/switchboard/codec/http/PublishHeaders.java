package dev.switchboard.codec.http;

import dev.switchboard.broker.MessageHeaders;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.HeaderRules;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A publish's message headers, sent as request headers {@code Switchboard-Header-<Name>: <value>} (docs/api.md): the
 * name after the prefix as it arrived (HTTP/2 lowercases it), one value per request header line, in order.
 * Lines whose names differ only in case are one header, named by its first line, as HTTP field names are
 * case-insensitive. The broker checks them by {@link HeaderRules}, as it does every transport's.
 */
final class PublishHeaders {
    static final String PREFIX = "Switchboard-Header-";

    private PublishHeaders() {}

    /** @throws ApiException {@code invalid_headers} for a value that is not UTF-8 */
    static Map<String, List<String>> of(HttpHeaders request) {
        Map<String, List<String>> headers = null;
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = request.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> field = it.next();
            CharSequence name = field.getKey();
            if (name.length() < PREFIX.length()
                    || !AsciiString.regionMatches(name, true, 0, PREFIX, 0, PREFIX.length())) {
                continue;
            }
            if (headers == null) {
                headers = new LinkedHashMap<>();
            }
            String messageHeader = name.subSequence(PREFIX.length(), name.length()).toString();
            String key = headers.keySet().stream().filter(messageHeader::equalsIgnoreCase).findFirst()
                    .orElse(messageHeader);
            headers.computeIfAbsent(key, k -> new ArrayList<>()).add(utf8(messageHeader, field.getValue()));
        }
        if (headers == null) {
            return MessageHeaders.NONE;
        }
        headers.replaceAll((k, v) -> List.copyOf(v));
        return headers;
    }

    /** HTTP carries a field value as bytes, which Netty hands over one char each; message headers are UTF-8 text. */
    private static String utf8(String name, CharSequence value) {
        byte[] bytes = new byte[value.length()];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) value.charAt(i);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new ApiException(ErrorCode.INVALID_HEADERS, "the value of header '" + name + "' is not UTF-8");
        }
    }
}
