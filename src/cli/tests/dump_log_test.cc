// dump-log on segments the broker wrote, intact and deliberately damaged.
#include "cli/tests/cli_fixture.h"

#include <gmock/gmock.h>

#include <filesystem>
#include <fstream>
#include <regex>

namespace samsa::cli::test {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

class dump_log_test : public cli_test {
protected:
    /// Writes three single-record batches (console-producer --sync) and stops the broker.
    std::string write_segment(const std::string& topic, std::vector<std::string> extra = {},
                              const std::string& lines = "k1:v1\nk2:v2\nk3:v3\n")
    {
        create_topic(topic, 1);
        produce(topic, lines, [&] {
            std::vector<std::string> a{"--property", "parse.key=true", "--property", "key.separator=:"};
            a.insert(a.end(), extra.begin(), extra.end());
            return a;
        }());
        stop_broker();
        return broker->data_dir() + "/" + topic + "-0/00000000000000000000";
    }

    /// The "position: N" of every batch line.
    static std::vector<long> positions(const std::string& dump)
    {
        std::vector<long> out;
        std::regex re("^baseOffset: .* position: ([0-9]+) ");
        for (auto& line : lines_of(dump)) {
            std::smatch m;
            if (std::regex_search(line, m, re)) out.push_back(std::stol(m[1]));
        }
        return out;
    }

    static void flip_byte(const std::string& path, long at)
    {
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekg(at);
        char c = 0;
        f.read(&c, 1);
        c = static_cast<char>(c ^ 0x5a);
        f.seekp(at);
        f.write(&c, 1);
    }
};

TEST_F(dump_log_test, prints_batches_and_records_of_a_broker_segment)
{
    auto seg = write_segment("dump");
    auto r = samsa("dump-log", {"--files", seg + ".log", "--print-data-log"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 8u) << r.out;
    EXPECT_EQ(lines[0], "Dumping " + seg + ".log");
    EXPECT_EQ(lines[1], "Log starting offset: 0");
    EXPECT_THAT(lines[2], ContainsRegex("^baseOffset: 0 lastOffset: 0 count: 1 baseSequence: -?[0-9]+ lastSequence: "
                                        "-?[0-9]+ producerId: -?[0-9]+ producerEpoch: -?[0-9]+ partitionLeaderEpoch: 0 "
                                        "isTransactional: false isControl: false position: 0 CreateTime: [0-9]+ "
                                        "size: [0-9]+ magic: 2 compresscodec: none crc: [0-9]+ isvalid: true$"));
    EXPECT_THAT(lines[3], ContainsRegex("^\\| offset: 0 CreateTime: [0-9]+ keySize: 2 valueSize: 2 sequence: -?[0-9]+ "
                                        "headerKeys: \\[\\] key: k1 payload: v1$"));
    EXPECT_THAT(lines[7], HasSubstr("| offset: 2 "));
    EXPECT_THAT(lines[7], HasSubstr("key: k3 payload: v3"));
    EXPECT_EQ(positions(r.out).size(), 3u);

    // The indexes of a healthy segment pass their checks.
    r = samsa("dump-log", {"--files", seg + ".index," + seg + ".timeindex", "--index-sanity-check"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr(seg + ".index passed sanity check."));
    EXPECT_THAT(r.out, HasSubstr(seg + ".timeindex passed sanity check."));
}

TEST_F(dump_log_test, corrupted_batch_is_reported_with_its_position)
{
    auto seg = write_segment("corrupt");
    auto clean = samsa("dump-log", {"--files", seg + ".log"});
    ASSERT_EQ(clean.exit_code, 0) << clean.err;
    auto pos = positions(clean.out);
    ASSERT_EQ(pos.size(), 3u) << clean.out;

    // A byte inside the second batch's records: covered by the CRC, not by the framing.
    flip_byte(seg + ".log", pos[1] + 65);
    auto r = samsa("dump-log", {"--files", seg + ".log", "--deep-iteration"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr(seg + ".log: batch at position " + std::to_string(pos[1]) +
                                 " (offsets 1-1): CRC mismatch: stored "));
    EXPECT_THAT(r.err, HasSubstr("1 problem(s) found"));
    auto lines = lines_of(r.out);
    int invalid = 0;
    for (auto& l : lines) invalid += l.find("isvalid: false") != std::string::npos;
    EXPECT_EQ(invalid, 1);
    // The batches around it are still shown, with their records.
    EXPECT_THAT(r.out, HasSubstr("| offset: 0 "));
    EXPECT_THAT(r.out, HasSubstr("| offset: 2 "));
    EXPECT_THAT(r.out, Not(HasSubstr("| offset: 1 ")));
}

TEST_F(dump_log_test, torn_tail_is_reported)
{
    auto seg = write_segment("torn");
    auto pos = positions(samsa("dump-log", {"--files", seg + ".log"}).out);
    ASSERT_EQ(pos.size(), 3u);
    auto size = std::filesystem::file_size(seg + ".log");
    std::filesystem::resize_file(seg + ".log", size - 5);
    auto r = samsa("dump-log", {"--files", seg + ".log"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr(seg + ".log: position " + std::to_string(pos[2]) + ": record batch is truncated"));
    EXPECT_THAT(r.out, HasSubstr("Found " + std::to_string(size - 5 - pos[2]) +
                                 " invalid bytes at the end of "
                                 "00000000000000000000.log"));
    EXPECT_EQ(positions(r.out).size(), 2u);
}

TEST_F(dump_log_test, compressed_batches_are_decoded)
{
    // Compressible values: librdkafka sends a batch uncompressed when compression would not help.
    std::string filler(400, 'z');
    auto seg = write_segment("zipped", {"--compression-codec", "gzip"}, "k1:a" + filler + "\nk2:b" + filler + "\n");
    auto r = samsa("dump-log", {"--files", seg + ".log", "--print-data-log"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("compresscodec: gzip"));
    EXPECT_THAT(r.out, HasSubstr("keySize: 2 valueSize: 401 "));
    EXPECT_THAT(r.out, HasSubstr("key: k2 payload: b" + filler + "\n"));
}

TEST_F(dump_log_test, bad_index_entries_are_reported)
{
    auto seg = write_segment("idx");
    auto pos = positions(samsa("dump-log", {"--files", seg + ".log"}).out);
    ASSERT_EQ(pos.size(), 3u);
    // Hand-written index: offset 2 at the third batch, then offset 1 (going backwards), then
    // an entry pointing past the end of the log, then half an entry.
    auto be32 = [](uint32_t v) {
        return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                           static_cast<char>(v)};
    };
    std::string index = be32(2) + be32(static_cast<uint32_t>(pos[2])) + be32(1) + be32(static_cast<uint32_t>(pos[1])) +
                        be32(3) + be32(1000000) + "\x01\x02";
    std::ofstream(seg + ".index", std::ios::binary | std::ios::trunc) << index;
    auto r = samsa("dump-log", {"--files", seg + ".index"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.out, HasSubstr("offset: 2 position: " + std::to_string(pos[2]) +
                                 "\noffset: 1 position: " + std::to_string(pos[1]) + "\n"));
    EXPECT_THAT(r.err, HasSubstr("size 26 is not a multiple of the 8-byte entry size"));
    EXPECT_THAT(r.err, HasSubstr("entry 1 (offset 1, position " + std::to_string(pos[1]) + ") does not increase"));
    EXPECT_THAT(r.err, HasSubstr("entry 2 (offset 3): position 1000000 is beyond the end of the log"));
}

TEST_F(dump_log_test, missing_file_and_missing_flag)
{
    auto r = samsa("dump-log", {"--files", *work / "00000000000000000000.log"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("Cannot open"));

    r = samsa("dump-log", {});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("--files"));
}

} // namespace
} // namespace samsa::cli::test
