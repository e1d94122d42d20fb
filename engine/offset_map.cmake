# The offset map of a mirrored partition (pure: no Kafka): exact group-offset translation, docs/offsets.md.
mirror_module(engine_offsets SOURCES offset_map.cpp DEPS mirror_common)
mirror_test(engine_offsets_test SOURCES offset_map_test.cpp DEPS mirror_engine_offsets LABELS unit)
