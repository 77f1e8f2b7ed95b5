/*
 * The Kafka Streams twin of processing_service: the reference a user would
 * pick instead of it, for bench/streams_reference.py to measure side by
 * side on the same broker.
 *
 * Same contract: each record of ORDERS_TOPIC is checked against
 * MAX_QUANTITY and CATALOG_FILE (OrderCheck), its status goes to
 * NOTIFICATIONS_TOPIC keyed by order_id with content-type and the
 * traceparent passed on; a record that is not an order goes unchanged to
 * ORDERS_TOPIC.dlq with the dlq.* headers of docs/CONTRACT.md (dlq.service
 * "streams_reference"). processing.guarantee is
 * exactly_once_v2, one stream thread, Kafka Streams' own client defaults;
 * COMMIT_INTERVAL_MS sets commit.interval.ms (100 under EOS when unset).
 * Output records are stamped with the wall clock, as librdkafka does for
 * processing_service's, not with the input's timestamp.
 *
 * Configuration from the environment: KAFKA_BOOTSTRAP_SERVERS,
 * KAFKA_GROUP_ID (the application.id), KAFKA_AUTO_OFFSET_RESET,
 * ORDERS_TOPIC, NOTIFICATIONS_TOPIC, MAX_QUANTITY, CATALOG_FILE,
 * COMMIT_INTERVAL_MS, STATE_DIR. Prints "streams-reference: running" on
 * stdout once the stream thread has its partitions; stops on SIGTERM.
 */
package pipeline.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;

public final class StreamsReference {
    private static final int TRACEPARENT_MAX_BYTES = 256;
    private static final DateTimeFormatter RFC3339_MS =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    /** One record in, its status or its DLQ copy out, to the named sink. */
    static final class RulesProcessor implements Processor<byte[], byte[], byte[], byte[]> {
        private final OrderCheck.Rules rules;
        private ProcessorContext<byte[], byte[]> ctx;

        RulesProcessor(OrderCheck.Rules rules) {
            this.rules = rules;
        }

        @Override
        public void init(ProcessorContext<byte[], byte[]> context) {
            ctx = context;
        }

        @Override
        public void process(Record<byte[], byte[]> in) {
            long now = System.currentTimeMillis();
            OrderCheck.Order order;
            try {
                order = OrderCheck.decode(in.value());
            } catch (OrderCheck.Invalid e) {
                ctx.forward(in.withHeaders(dlqHeaders(in.headers(), e)).withTimestamp(now), "dlq");
                return;
            }
            String processedAt = RFC3339_MS.format(Instant.ofEpochMilli(now));
            byte[] value = OrderCheck.encodeStatus(order, rules.rejection(order), processedAt);
            Headers h = new RecordHeaders();
            h.add("content-type", "application/json".getBytes(StandardCharsets.UTF_8));
            Header tp = in.headers().lastHeader("traceparent");
            if (tp != null && isTraceparent(tp.value()))
                h.add("traceparent", tp.value());
            ctx.forward(new Record<>(order.orderId().getBytes(StandardCharsets.UTF_8), value, now, h),
                    "notifications");
        }

        /* W3C traceparent as libshared/src/trace.c checks it: version
         * (not ff) - 32 hex trace id (not zero) - 16 hex parent id (not
         * zero) - 2 hex flags; version 00 exactly 55 characters. */
        static boolean isTraceparent(byte[] v) {
            if (v == null || v.length < 55 || v.length > TRACEPARENT_MAX_BYTES)
                return false;
            String s = new String(v, StandardCharsets.ISO_8859_1);
            if (s.indexOf('\0') >= 0 || s.charAt(2) != '-' || s.charAt(35) != '-'
                    || s.charAt(52) != '-' || s.startsWith("ff"))
                return false;
            if (v.length > 55 && (s.startsWith("00") || s.charAt(55) != '-'))
                return false;
            return s.substring(0, 2).matches("[0-9a-f]{2}")
                    && s.substring(3, 35).matches("[0-9a-f]{32}") && !s.substring(3, 35).matches("0+")
                    && s.substring(36, 52).matches("[0-9a-f]{16}") && !s.substring(36, 52).matches("0+")
                    && s.substring(53, 55).matches("[0-9a-f]{2}");
        }

        /* docs/CONTRACT.md's DLQ header schema; dlq.service names the twin. */
        private Headers dlqHeaders(Headers orig, OrderCheck.Invalid e) {
            Headers h = new RecordHeaders(orig.toArray());
            RecordMetadata md = ctx.recordMetadata().orElseThrow();
            add(h, "dlq.service", "streams_reference");
            add(h, "dlq.stage", "decode");
            add(h, "dlq.error.code", e.code);
            add(h, "dlq.error.message", e.getMessage());
            if (!e.field.isEmpty())
                add(h, "dlq.error.field", e.field);
            add(h, "dlq.source.topic", md.topic());
            add(h, "dlq.source.partition", Integer.toString(md.partition()));
            add(h, "dlq.source.offset", Long.toString(md.offset()));
            return h;
        }

        private static void add(Headers h, String name, String value) {
            h.add(name, value.getBytes(StandardCharsets.UTF_8));
        }
    }

    private static String env(String name, String def) {
        String v = System.getenv(name);
        return v == null || v.isEmpty() ? def : v;
    }

    static Topology topology(String orders, String notifications, OrderCheck.Rules rules) {
        Topology t = new Topology();
        t.addSource("orders", new ByteArrayDeserializer(), new ByteArrayDeserializer(), orders);
        t.addProcessor("rules", () -> new RulesProcessor(rules), "orders");
        t.addSink("notifications", notifications, new ByteArraySerializer(),
                new ByteArraySerializer(), "rules");
        t.addSink("dlq", orders + ".dlq", new ByteArraySerializer(), new ByteArraySerializer(),
                "rules");
        return t;
    }

    public static void main(String[] args) throws Exception {
        String orders = env("ORDERS_TOPIC", "orders");
        long maxQuantity = Long.parseLong(env("MAX_QUANTITY", "100"));
        String catalog = System.getenv("CATALOG_FILE");
        OrderCheck.Rules rules = new OrderCheck.Rules(maxQuantity,
                catalog == null || catalog.isEmpty() ? null : OrderCheck.Rules.loadCatalog(Path.of(catalog)));

        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, env("KAFKA_GROUP_ID", "streams-reference"));
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, env("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092"));
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG),
                env("KAFKA_AUTO_OFFSET_RESET", "earliest"));
        String commit = System.getenv("COMMIT_INTERVAL_MS");
        if (commit != null && !commit.isEmpty())
            p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Long.parseLong(commit));
        String stateDir = System.getenv("STATE_DIR");
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir != null && !stateDir.isEmpty()
                ? stateDir : Files.createTempDirectory("streams-reference").toString());

        KafkaStreams streams = new KafkaStreams(
                topology(orders, env("NOTIFICATIONS_TOPIC", "notifications"), rules), p);
        CountDownLatch stopped = new CountDownLatch(1);
        int[] exit = {0};
        streams.setStateListener((now, before) -> {
            if (now == KafkaStreams.State.RUNNING) {
                System.out.println("streams-reference: running");
                System.out.flush();
            } else if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) {
                stopped.countDown();
            }
        });
        streams.setUncaughtExceptionHandler(e -> {
            System.err.println("streams-reference: " + e);
            exit[0] = 1;
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            streams.close(Duration.ofSeconds(30));
            stopped.countDown();
        }));
        streams.start();
        stopped.await();
        System.exit(exit[0]);
    }
}
