# The fault-injection suite (docs/reliability.md): Toxiproxy between mirror and each broker, frozen and
# restarted brokers, ACLs revoked, a target topic deleted. It freezes and restarts the shared clusters, so
# it runs alone. Needs scripts/install-fault-tools (scripts/test runs it).
mirror_test(fault_integration_test
  SOURCES tests/fault_integration_test.cpp
  DEPS mirror_kafka PkgConfig::HTTPLIB
  LABELS integration
  FIXTURES kafka
  RUN_SERIAL)
if(TARGET fault_integration_test)
  target_compile_definitions(fault_integration_test PRIVATE MIRROR_BINARY="$<TARGET_FILE:mirror>"
                                                           MIRROR_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  add_dependencies(fault_integration_test mirror)
  # Labels "integration;faults" (ctest -L faults runs the suite alone). mirror_test hands its properties to
  # gtest_discover_tests as one flat list, where a second label would be read as a property name; so they
  # are set here, by a file ctest reads after the discovered tests (the list is their TEST_LIST variable).
  set(labels_file ${CMAKE_CURRENT_BINARY_DIR}/fault_integration_test_labels.cmake)
  file(WRITE ${labels_file}
       "if(fault_integration_test_TESTS)\n"
       "  set_tests_properties(\${fault_integration_test_TESTS} PROPERTIES LABELS \"integration;faults\")\n"
       "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${labels_file})
endif()
