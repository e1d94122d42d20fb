# Prometheus metrics: the registry and the /metrics + /healthz HTTP server (cpp-httplib).
# Included from engine/CMakeLists.txt, so the paths are relative to engine/.
find_package(Threads REQUIRED)
mirror_module(engine_metrics SOURCES metrics.cpp DEPS PkgConfig::HTTPLIB Threads::Threads mirror_common)
mirror_test(engine_metrics_test SOURCES metrics_test.cpp DEPS mirror_engine_metrics LABELS unit)
