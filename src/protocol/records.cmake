# Record batch v2 codec, compression, legacy (magic 0/1) message sets.
target_sources(samsa_protocol PRIVATE
  record_batch.cc
  record_batch_builder.cc
  compression.cc)

if(SAMSA_BUILD_TESTS)
  target_sources(protocol_tests PRIVATE
    tests/record_batch_test.cc)
endif()
