/*
 * processing_service's record rules in Java: decode an orders record as
 * libshared/src/order.c does (ORDER_FROM_RECORD), check it against the
 * business rules as processing_service/src/rules.c does, and encode the
 * status byte for byte as order_status_encode() (jansson, JSON_COMPACT)
 * does. Pure: no Kafka, no clock beyond processedAt's argument.
 *
 * Where Jackson and jansson report a malformed document differently (the
 * byte position of a syntax error, invalid UTF-8 inside a string), the
 * DLQ code is the same ("invalid_json") but the message may differ; every
 * field-level fault has the C service's code, message and field.
 */
package pipeline.bench;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

final class OrderCheck {
    static final int MAX_JSON_BYTES = 64 * 1024;
    static final int MAX_JSON_DEPTH = 8;
    static final String QUANTITY_RULE = "quantity must be an integer from 1 to 1000000";
    private static final List<String> RECORD_FIELDS =
            List.of("order_id", "user_id", "item", "quantity", "created_at");
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** What decoding found wrong: the dlq.error.* headers. */
    static final class Invalid extends Exception {
        final String code;
        final String field;

        Invalid(String code, String field, String message) {
            super(message, null, false, false);
            this.code = code;
            this.field = field == null ? "" : field;
        }
    }

    record Order(String orderId, String userId, String item, long quantity) {}

    /** MAX_QUANTITY and CATALOG_FILE, as processing_service reads them. */
    static final class Rules {
        final long maxQuantity;
        final Set<String> catalog; // null: every item is known

        Rules(long maxQuantity, Set<String> catalog) {
            this.maxQuantity = maxQuantity;
            this.catalog = catalog;
        }

        /** One item per line, blanks trimmed; blank and '#' lines skipped. */
        static Set<String> loadCatalog(Path path) throws IOException {
            Set<String> items = new TreeSet<>();
            for (String line : Files.readAllLines(path, StandardCharsets.UTF_8)) {
                String s = line.replaceAll("^[ \\t\\r\\u000b\\f]+|[ \\t\\r\\u000b\\f]+$", "");
                if (!s.isEmpty() && s.charAt(0) != '#')
                    items.add(s);
            }
            return items;
        }

        /** null when confirmed, else the reason; unknown item first. */
        String rejection(Order o) {
            if (catalog != null && !catalog.contains(o.item()))
                return "unknown_item";
            if (o.quantity() > maxQuantity)
                return "quantity_limit";
            return null;
        }
    }

    private OrderCheck() {}

    /** Decode an orders record value, or throw what the DLQ headers say. */
    static Order decode(byte[] value) throws Invalid {
        if (value == null)
            throw new Invalid("invalid_json", null, "the record has no value");
        prescan(value);
        JsonNode root;
        try {
            root = MAPPER.readTree(value);
        } catch (StreamReadException e) {
            String m = e.getOriginalMessage();
            if (m != null && m.startsWith("Duplicate field '")) {
                String f = m.substring(17, m.indexOf('\'', 17));
                throw new Invalid("duplicate_field", f, "duplicate field");
            }
            long at = e.getLocation() == null ? 0 : e.getLocation().getByteOffset();
            throw new Invalid("invalid_json", null, "malformed json at byte " + at);
        } catch (IOException e) {
            throw new Invalid("invalid_json", null, "malformed json");
        }
        if (root == null || !root.isObject())
            throw new Invalid("invalid_type", null, "json must be an object");
        for (Iterator<String> it = root.fieldNames(); it.hasNext();) {
            String k = it.next();
            if (!RECORD_FIELDS.contains(k))
                throw new Invalid("unknown_field", k, "unknown field");
        }
        String id = orderId(root);
        String user = text(root, "user_id", 64);
        String item = text(root, "item", 128);
        long quantity = quantity(root);
        createdAt(root);
        return new Order(id, user, item, quantity);
    }

    /* Size, emptiness and bracket depth outside strings, as order.c's. */
    private static void prescan(byte[] v) throws Invalid {
        if (v.length > MAX_JSON_BYTES)
            throw new Invalid("invalid_json", null, "json larger than " + MAX_JSON_BYTES + " bytes");
        boolean inString = false, blank = true;
        int depth = 0;
        for (int i = 0; i < v.length; i++) {
            byte c = v[i];
            if (inString) {
                if (c == '\\')
                    i++;
                else if (c == '"')
                    inString = false;
                continue;
            }
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
                blank = false;
            if (c == '"') {
                inString = true;
            } else if (c == '{' || c == '[') {
                if (++depth > MAX_JSON_DEPTH)
                    throw new Invalid("invalid_json", null,
                            "json nested deeper than " + MAX_JSON_DEPTH + " levels");
            } else if ((c == '}' || c == ']') && depth > 0) {
                depth--;
            }
        }
        if (blank)
            throw new Invalid("invalid_json", null, "empty json");
    }

    private static String orderId(JsonNode root) throws Invalid {
        JsonNode v = root.get("order_id");
        if (v == null)
            throw new Invalid("missing_field", "order_id", "order_id is required");
        if (!v.isTextual())
            throw new Invalid("invalid_type", "order_id", "order_id must be a string");
        String s = v.textValue();
        if (!s.matches("[A-Za-z0-9._:-]{1,64}"))
            throw new Invalid("invalid_value", "order_id",
                    "order_id must be 1 to 64 characters of [A-Za-z0-9._:-]");
        return s;
    }

    private static String text(JsonNode root, String name, int maxChars) throws Invalid {
        JsonNode v = root.get(name);
        if (v == null)
            throw new Invalid("missing_field", name, name + " is required");
        if (!v.isTextual())
            throw new Invalid("invalid_type", name, name + " must be a string");
        String s = v.textValue();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            // A lone surrogate (from a \ud800 escape) is not a character.
            if (Character.isHighSurrogate(c) && i + 1 < s.length()
                    && Character.isLowSurrogate(s.charAt(i + 1)))
                i++;
            else if (Character.isSurrogate(c))
                throw new Invalid("invalid_value", name, name + " must be valid utf-8");
        }
        int chars = s.codePointCount(0, s.length());
        if (chars < 1 || chars > maxChars)
            throw new Invalid("invalid_value", name,
                    name + " must be 1 to " + maxChars + " characters");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
                throw new Invalid("invalid_value", name,
                        name + " must not contain control characters");
        }
        return s;
    }

    private static long quantity(JsonNode root) throws Invalid {
        JsonNode v = root.get("quantity");
        if (v == null)
            throw new Invalid("missing_field", "quantity", "quantity is required");
        if (!v.isIntegralNumber())
            throw new Invalid("invalid_type", "quantity", QUANTITY_RULE);
        BigInteger q = v.bigIntegerValue();
        if (q.compareTo(BigInteger.ONE) < 0 || q.compareTo(BigInteger.valueOf(1_000_000)) > 0)
            throw new Invalid("invalid_value", "quantity", QUANTITY_RULE);
        return q.longValue();
    }

    /* "YYYY-MM-DDTHH:MM:SS.mmmZ" with plausible ranges, as order.c's. */
    private static void createdAt(JsonNode root) throws Invalid {
        JsonNode v = root.get("created_at");
        if (v == null)
            throw new Invalid("missing_field", "created_at", "created_at is required");
        if (!v.isTextual())
            throw new Invalid("invalid_type", "created_at", "created_at must be a string");
        String s = v.textValue();
        boolean ok = s.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
        if (ok) {
            int mon = Integer.parseInt(s.substring(5, 7)), day = Integer.parseInt(s.substring(8, 10));
            int hour = Integer.parseInt(s.substring(11, 13)), min = Integer.parseInt(s.substring(14, 16));
            int sec = Integer.parseInt(s.substring(17, 19));
            ok = mon >= 1 && mon <= 12 && day >= 1 && day <= 31 && hour <= 23 && min <= 59 && sec <= 60;
        }
        if (!ok)
            throw new Invalid("invalid_value", "created_at",
                    "created_at must be rfc 3339 utc with milliseconds");
    }

    /** The notifications value, as order_status_encode() writes it. */
    static byte[] encodeStatus(Order o, String reason, String processedAt) {
        StringBuilder b = new StringBuilder(160);
        b.append("{\"order_id\":");
        quote(b, o.orderId());
        b.append(",\"user_id\":");
        quote(b, o.userId());
        b.append(",\"item\":");
        quote(b, o.item());
        b.append(",\"quantity\":").append(o.quantity());
        b.append(",\"status\":\"").append(reason == null ? "confirmed" : "rejected").append('"');
        b.append(",\"reason\":");
        if (reason == null)
            b.append("null");
        else
            quote(b, reason);
        b.append(",\"processed_at\":");
        quote(b, processedAt);
        return b.append('}').toString().getBytes(StandardCharsets.UTF_8);
    }

    /* jansson's escaping: quote, backslash, the short escapes, \\u00XX. */
    private static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
            case '"' -> b.append("\\\"");
            case '\\' -> b.append("\\\\");
            case '\b' -> b.append("\\b");
            case '\f' -> b.append("\\f");
            case '\n' -> b.append("\\n");
            case '\r' -> b.append("\\r");
            case '\t' -> b.append("\\t");
            default -> {
                if (c < 0x20)
                    b.append(String.format("\\u%04X", (int) c));
                else
                    b.append(c);
            }
            }
        }
        b.append('"');
    }
}
