// TranslateOffsets: what a Java application sees through MirrorMaker 2's client API. It calls
// RemoteClusterUtils.translateOffsets (connect-mirror-client) against the TARGET cluster, exactly as an
// application failing over would, and prints the translated offsets of one consumer group, one line per
// partition, sorted: `<topic> <partition> <offset>`. Run it through scripts/mm2-translate, which compiles it
// once and finds the jars:
//
//   java -cp "<classes>:<mm2-lib jars>" TranslateOffsets BOOTSTRAP SOURCE_ALIAS GROUP TIMEOUT_MS [CONFIG_FILE]
//
// CONFIG_FILE holds client properties (security.protocol, sasl.*, ssl.*, replication.policy.*; `consumer.`
// and `admin.` prefixes override per client). MM2's client silently drops every other client setting.
// Exit 0 with the offsets (none is a valid answer: the group has no checkpoint); exit 1 with a message on
// stderr otherwise. docs/mm2-formats.md explains what translateOffsets reads.
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.connect.mirror.MirrorClient;
import org.apache.kafka.connect.mirror.RemoteClusterUtils;

public final class TranslateOffsets {
  static final class Failure extends Exception {
    Failure(String message) { super(message); }
  }

  public static void main(String[] args) {
    try {
      run(args);
      System.exit(0);
    } catch (Failure f) {
      System.err.println("mm2-translate: error: " + f.getMessage());
    } catch (Exception e) {
      System.err.println("mm2-translate: error: " + describe(e));
    }
    System.exit(1);
  }

  static void run(String[] args) throws Exception {
    if (args.length < 4 || args.length > 5) {
      throw new Failure("usage: TranslateOffsets BOOTSTRAP SOURCE_ALIAS GROUP TIMEOUT_MS [CONFIG_FILE]");
    }
    String bootstrap = args[0];
    String source = args[1];
    String group = args[2];
    Duration timeout = Duration.ofMillis(Long.parseLong(args[3]));
    Map<String, Object> props = clientProps(bootstrap, args.length == 5 ? args[4] : null);

    // The topic name as MM2's client computes it (honours replication.policy.* in the config file).
    String topic;
    try (MirrorClient client = new MirrorClient(props)) {
      topic = client.replicationPolicy().checkpointsTopic(source);
    }
    checkTopic(adminProps(props), bootstrap, topic, timeout);

    long started = System.nanoTime();
    Map<TopicPartition, OffsetAndMetadata> offsets;
    try {
      offsets = RemoteClusterUtils.translateOffsets(props, source, group, timeout);
    } catch (Exception e) {
      throw new Failure("RemoteClusterUtils.translateOffsets failed: " + describe(e)
          + "\n  (MM2's client fails on a tombstone (null key or value) anywhere in " + topic + ", whatever the"
          + " group, and on a checkpoint of this group with a negative downstream offset)");
    }
    // translateOffsets stops reading at the deadline and returns what it has, without saying so.
    long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    if (elapsedMs >= timeout.toMillis()) {
      throw new Failure("translateOffsets ran into its " + timeout.toMillis() + " ms timeout before the end of "
          + topic + "; its answer may be incomplete (use a longer --timeout)");
    }
    print(offsets);
    if (offsets.isEmpty()) {
      System.err.println("mm2-translate: no checkpoint for group '" + group + "' in " + topic + " on " + bootstrap);
    }
  }

  static Map<String, Object> clientProps(String bootstrap, String configFile) throws IOException {
    Properties file = new Properties();
    if (configFile != null) {
      try (InputStream in = new FileInputStream(configFile)) {
        file.load(in);
      }
    }
    Map<String, Object> props = new HashMap<>();
    for (String name : file.stringPropertyNames()) props.put(name, file.getProperty(name));
    props.put("bootstrap.servers", bootstrap);
    return props;
  }

  // Like MM2's client: the common settings, overridden by `admin.`-prefixed ones; other clients' dropped.
  static Map<String, Object> adminProps(Map<String, Object> props) {
    Map<String, Object> admin = new HashMap<>();
    props.forEach((k, v) -> {
      if (!k.startsWith("admin.") && !k.startsWith("consumer.") && !k.startsWith("producer.")) admin.put(k, v);
    });
    props.forEach((k, v) -> {
      if (k.startsWith("admin.")) admin.put(k.substring("admin.".length()), v);
    });
    return admin;
  }

  // Fails clearly when the topic is missing (translateOffsets would wait for default.api.timeout.ms, then
  // throw a bare TimeoutException), and warns when it has partitions that translateOffsets never reads.
  static void checkTopic(Map<String, Object> adminProps, String bootstrap, String topic, Duration timeout)
      throws Exception {
    Admin admin = Admin.create(adminProps);
    try {
      TopicDescription d;
      try {
        d = admin.describeTopics(Set.of(topic)).allTopicNames().get(timeout.toMillis(), TimeUnit.MILLISECONDS)
            .get(topic);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof UnknownTopicOrPartitionException) {
          throw new Failure("checkpoints topic '" + topic + "' does not exist on " + bootstrap
              + ": nothing has written checkpoints for that source cluster there (is --bootstrap the target"
              + " cluster, and --source the alias of the cluster the group consumed from?)");
        }
        throw new Failure("cannot describe topic '" + topic + "' on " + bootstrap + ": " + describe(e.getCause()));
      } catch (TimeoutException e) {
        throw new Failure("no answer from " + bootstrap + " within " + timeout.toMillis() + " ms (is it the"
            + " right address, and does the config file have the right security settings?)");
      }
      if (d.partitions().size() != 1) {
        System.err.println("mm2-translate: warning: " + topic + " has " + d.partitions().size()
            + " partitions; MM2's translateOffsets reads only partition 0");
      }
    } finally {
      // Without a timeout, close() waits for an abandoned request (default.api.timeout.ms, 60 s).
      admin.close(Duration.ZERO);
    }
  }

  static void print(Map<TopicPartition, OffsetAndMetadata> offsets) {
    List<Map.Entry<TopicPartition, OffsetAndMetadata>> sorted = new ArrayList<>(offsets.entrySet());
    sorted.sort(Comparator.comparing((Map.Entry<TopicPartition, OffsetAndMetadata> e) -> e.getKey().topic())
        .thenComparingInt(e -> e.getKey().partition()));
    StringBuilder out = new StringBuilder();
    for (var e : sorted) {
      out.append(e.getKey().topic()).append(' ').append(e.getKey().partition()).append(' ')
          .append(e.getValue().offset()).append('\n');
    }
    System.out.print(out);
    System.out.flush();
  }

  // "Class: message" for the exception and each cause, so the root cause is visible.
  static String describe(Throwable t) {
    StringBuilder b = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (b.length() > 0) b.append(" <- caused by ");
      b.append(c.getClass().getName());
      if (c.getMessage() != null) b.append(": ").append(c.getMessage());
    }
    return b.toString();
  }
}
