// RAII ownership of every librdkafka handle, in one place. Private to kafka/: nothing outside this
// folder includes rdkafka.h.
#pragma once

#include <librdkafka/rdkafka.h>

#include <memory>

namespace mirror::kafka::detail {

template <auto Destroy>
struct Deleter {
  template <class T>
  void operator()(T* p) const noexcept {
    if (p) Destroy(p);
  }
};

template <class T, auto Destroy>
using Handle = std::unique_ptr<T, Deleter<Destroy>>;

// rd_kafka_t: destroying it waits for librdkafka's threads; consumers are closed first (Consumer::close).
using KafkaHandle = Handle<rd_kafka_t, rd_kafka_destroy>;
// rd_kafka_new() takes ownership of the conf only when it succeeds: release() it then, never before.
using ConfHandle = Handle<rd_kafka_conf_t, rd_kafka_conf_destroy>;
using QueueHandle = Handle<rd_kafka_queue_t, rd_kafka_queue_destroy>;
using EventHandle = Handle<rd_kafka_event_t, rd_kafka_event_destroy>;
using ErrorHandle = Handle<rd_kafka_error_t, rd_kafka_error_destroy>;
using MessageHandle = Handle<rd_kafka_message_t, rd_kafka_message_destroy>;
using HeadersHandle = Handle<rd_kafka_headers_t, rd_kafka_headers_destroy>;
using PartitionListHandle = Handle<rd_kafka_topic_partition_list_t, rd_kafka_topic_partition_list_destroy>;
using AdminOptionsHandle = Handle<rd_kafka_AdminOptions_t, rd_kafka_AdminOptions_destroy>;
using NewTopicHandle = Handle<rd_kafka_NewTopic_t, rd_kafka_NewTopic_destroy>;
using TopicCollectionHandle = Handle<rd_kafka_TopicCollection_t, rd_kafka_TopicCollection_destroy>;
using DeleteTopicHandle = Handle<rd_kafka_DeleteTopic_t, rd_kafka_DeleteTopic_destroy>;
using DeleteRecordsHandle = Handle<rd_kafka_DeleteRecords_t, rd_kafka_DeleteRecords_destroy>;
using NewPartitionsHandle = Handle<rd_kafka_NewPartitions_t, rd_kafka_NewPartitions_destroy>;
using ConfigResourceHandle = Handle<rd_kafka_ConfigResource_t, rd_kafka_ConfigResource_destroy>;
using AclBindingHandle = Handle<rd_kafka_AclBinding_t, rd_kafka_AclBinding_destroy>;
using ListGroupOffsetsHandle =
    Handle<rd_kafka_ListConsumerGroupOffsets_t, rd_kafka_ListConsumerGroupOffsets_destroy>;
using AlterGroupOffsetsHandle =
    Handle<rd_kafka_AlterConsumerGroupOffsets_t, rd_kafka_AlterConsumerGroupOffsets_destroy>;
using DeleteGroupHandle = Handle<rd_kafka_DeleteGroup_t, rd_kafka_DeleteGroup_destroy>;
using MetadataHandle = Handle<const rd_kafka_metadata_t, rd_kafka_metadata_destroy>;
using TopicHandle = Handle<rd_kafka_topic_t, rd_kafka_topic_destroy>;

}  // namespace mirror::kafka::detail
