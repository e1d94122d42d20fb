// Mm2Format: golden vectors for mirror's MirrorMaker 2 record formats (offsets/mm2_format.cpp), produced by
// MM2's own classes, so mirror's encoder is checked against the real thing and not against our reading of it.
//
// It builds org.apache.kafka.connect.mirror.Checkpoint and Heartbeat values, serializes them with MM2's
// recordKey()/recordValue() (package-private in connect-mirror-client 4.3.1, hence reflection), checks
// that MM2's deserializeRecord() reads every vector back unchanged, and prints testdata/mm2/golden.txt:
//
//   java -cp "${MM2_LIB:-.cache/kafka-4.3.1/mm2-lib}/*" scripts/mm2-client/Mm2Format.java > testdata/mm2/golden.txt
//
// (Java 11+ runs a single source file directly.) Line format: see header() below.
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.AppInfoParser;
import org.apache.kafka.connect.mirror.Checkpoint;
import org.apache.kafka.connect.mirror.DefaultReplicationPolicy;
import org.apache.kafka.connect.mirror.Heartbeat;

public final class Mm2Format {
  record CheckpointCase(String name, String group, String topic, int partition, long upstream, long downstream,
      String metadata) {}

  record HeartbeatCase(String name, String source, String target, long timestamp) {}

  // Inputs: empty strings, unicode (2-, 3- and 4-byte UTF-8), an embedded NUL, partition 0, 256 and
  // INT32_MAX, offsets 0 and up to INT64_MAX, strings longer than 255 bytes (a length with a high byte).
  static final List<CheckpointCase> CHECKPOINTS = List.of(
      new CheckpointCase("empty-metadata", "console-consumer-42", "orders", 0, 0L, 0L, ""),
      new CheckpointCase("typical", "payments-service", "A.payments", 3, 1500L, 1498L, "checkpoint metadata"),
      new CheckpointCase("partition-256", "g", "t", 256, 255L, 256L, "x"),
      new CheckpointCase("partition-int32-max", "group.with.dots", "A.t_1-x", Integer.MAX_VALUE, 4294967296L,
          4294967295L, ""),
      new CheckpointCase("offsets-int64-max", "big", "A.big", 1, Long.MAX_VALUE, Long.MAX_VALUE - 1, ""),
      new CheckpointCase("unicode", "grüße-日本-🚀", "A.orders_v2-eu", 7, 123456789012L, 123456789000L,
          "méta ✓"),
      new CheckpointCase("empty-group", "", "x", 1, 1L, 1L, "m"),
      new CheckpointCase("nul-in-group", "nul\u0000inside", "A.nul", 2, 10L, 9L, "\u0000"),
      new CheckpointCase("long-strings", "g".repeat(300), "t".repeat(249), 65535, 65536L, 65535L,
          "0123456789".repeat(30)));

  static final List<HeartbeatCase> HEARTBEATS = List.of(
      new HeartbeatCase("zero", "A", "B", 0L),
      new HeartbeatCase("typical", "us-west", "us-east", 1718000000000L),
      new HeartbeatCase("timestamp-256", "backup", "primary", 256L),
      new HeartbeatCase("unicode-int64-max", "zürich-1", "東京", Long.MAX_VALUE),
      new HeartbeatCase("long-alias", "a".repeat(300), "b", 1L));

  static final HexFormat HEX = HexFormat.of();

  public static void main(String[] args) throws Exception {
    StringBuilder out = new StringBuilder(header());
    for (CheckpointCase c : CHECKPOINTS) out.append(checkpointLine(c));
    out.append('\n');
    for (HeartbeatCase h : HEARTBEATS) out.append(heartbeatLine(h));
    out.append('\n');
    DefaultReplicationPolicy policy = new DefaultReplicationPolicy();
    for (String alias : List.of("A", "us-west", "zürich-1")) {
      out.append("checkpoints-topic source=").append(hex(alias)).append(" topic=")
          .append(hex(policy.checkpointsTopic(alias))).append('\n');
    }
    out.append("heartbeats-topic topic=").append(hex(policy.heartbeatsTopic())).append('\n');
    System.out.print(out);
  }

  static String header() {
    return "# MirrorMaker 2 wire formats (Checkpoint, Heartbeat), produced by MM2's own classes in\n"
        + "# connect-mirror-client " + AppInfoParser.getVersion() + " by scripts/mm2-client/Mm2Format.java.\n"
        + "# Do not edit by hand. Regenerate (Java 17; jars from `scripts/kafka-local fetch --mm2`):\n"
        + "#   java -cp \"${MM2_LIB:-.cache/kafka-4.3.1/mm2-lib}/*\" scripts/mm2-client/Mm2Format.java"
        + " > testdata/mm2/golden.txt\n"
        + "# Read by offsets/mm2_format_test.cpp. One vector per line, `kind field=value ...` separated by one\n"
        + "# space; strings (group, topic, metadata, aliases) and the encoded key/value are lowercase hex of\n"
        + "# their bytes (strings as UTF-8; empty string = nothing after '='); numbers are decimal.\n"
        + "# Lines starting with '#' (the readable form of the next vector) and empty lines are ignored.\n"
        + "#   checkpoint name= group= topic= partition= upstream= downstream= metadata= key= value=\n"
        + "#   heartbeat name= source= target= timestamp= key= value=\n"
        + "#   checkpoints-topic source= topic=      (DefaultReplicationPolicy.checkpointsTopic(source))\n"
        + "#   heartbeats-topic topic=               (DefaultReplicationPolicy.heartbeatsTopic())\n\n";
  }

  static String checkpointLine(CheckpointCase c) throws Exception {
    Checkpoint cp = new Checkpoint(c.group(), new TopicPartition(c.topic(), c.partition()), c.upstream(),
        c.downstream(), c.metadata());
    byte[] key = bytes(cp, "recordKey");
    byte[] value = bytes(cp, "recordValue");
    Checkpoint back = Checkpoint.deserializeRecord(new ConsumerRecord<>("t", 0, 0L, key, value));
    if (!back.equals(cp) || !back.consumerGroupId().equals(c.group()) || !back.metadata().equals(c.metadata())) {
      throw new IllegalStateException("MM2 does not read back checkpoint " + c.name() + ": " + back);
    }
    return "# " + c.name() + ": " + readable(cp.toString()) + "\n"
        + "checkpoint name=" + c.name() + " group=" + hex(c.group()) + " topic=" + hex(c.topic())
        + " partition=" + c.partition() + " upstream=" + c.upstream() + " downstream=" + c.downstream()
        + " metadata=" + hex(c.metadata()) + " key=" + HEX.formatHex(key) + " value=" + HEX.formatHex(value)
        + "\n";
  }

  static String heartbeatLine(HeartbeatCase h) throws Exception {
    Heartbeat hb = new Heartbeat(h.source(), h.target(), h.timestamp());
    byte[] key = bytes(hb, "recordKey");
    byte[] value = bytes(hb, "recordValue");
    Heartbeat back = Heartbeat.deserializeRecord(new ConsumerRecord<>("heartbeats", 0, 0L, key, value));
    if (!back.sourceClusterAlias().equals(h.source()) || !back.targetClusterAlias().equals(h.target())
        || back.timestamp() != h.timestamp()) {
      throw new IllegalStateException("MM2 does not read back heartbeat " + h.name() + ": " + back);
    }
    return "# " + h.name() + ": " + readable(hb.toString()) + "\n"
        + "heartbeat name=" + h.name() + " source=" + hex(h.source()) + " target=" + hex(h.target())
        + " timestamp=" + h.timestamp() + " key=" + HEX.formatHex(key) + " value=" + HEX.formatHex(value) + "\n";
  }

  // recordKey()/recordValue() are package-private: exactly the bytes MM2's tasks hand to the producer.
  static byte[] bytes(Object record, String method) throws Exception {
    Method m = record.getClass().getDeclaredMethod(method);
    m.setAccessible(true);
    return (byte[]) m.invoke(record);
  }

  static String hex(String s) { return HEX.formatHex(s.getBytes(StandardCharsets.UTF_8)); }

  // A comment line must stay one line and short: escape control characters, elide long runs, cut at 200.
  static String readable(String s) {
    StringBuilder b = new StringBuilder();
    s.codePoints().forEach(cp -> {
      if (cp < 0x20) b.append(String.format("\\u%04x", cp)); else b.appendCodePoint(cp);
    });
    String r = b.toString().replaceAll("(.)\\1{19,}", "$1$1$1…");
    return r.codePointCount(0, r.length()) <= 200 ? r : r.substring(0, r.offsetByCodePoints(0, 200)) + "…";
  }
}
