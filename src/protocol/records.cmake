# Record batch v2 codec, records inside batches, compression, legacy (magic 0/1) message sets.
target_sources(samsa_protocol PRIVATE
  record_batch.cc
  record_batch_builder.cc
  records.cc
  legacy_records.cc
  compression.cc)

if(SAMSA_BUILD_TESTS)
  target_sources(protocol_tests PRIVATE
    tests/record_batch_test.cc
    tests/compression_test.cc
    tests/records_test.cc
    tests/legacy_records_test.cc)
  # The kafka-python read-back test runs tools/golden/dump_records.py with /usr/bin/python3.
  target_compile_definitions(protocol_tests PRIVATE
    SAMSA_GOLDEN_TOOLS_DIR="${PROJECT_SOURCE_DIR}/tools/golden")
endif()
