#include "storage/errc.h"
#include "storage/faulty_file_ops.h"
#include "storage/mem_file_ops.h"
#include "test_util/temp_dir.h"

#include <gtest/gtest.h>

namespace samsa::storage {
namespace {

bytes read_all(file_ops& fs, const std::string& p) { return fs.read_file(p).value(); }

TEST(mem_file_ops, unsynced_data_is_lost_on_crash)
{
    mem_file_ops fs;
    ASSERT_TRUE(fs.create_dirs("/d"));
    auto f = fs.open("/d/a", open_mode::create).value();
    ASSERT_TRUE(fs.sync_dir("/d"));
    ASSERT_TRUE(f->pwrite(0, as_bytes("hello")));
    ASSERT_TRUE(f->sync());
    ASSERT_TRUE(f->pwrite(5, as_bytes(" world")));
    fs.simulate_crash();
    EXPECT_EQ(as_string_view(read_all(fs, "/d/a")), "hello");
}

TEST(mem_file_ops, unsynced_directory_entries_are_lost_on_crash)
{
    mem_file_ops fs;
    ASSERT_TRUE(fs.create_dirs("/d"));
    auto f = fs.open("/d/a", open_mode::create).value();
    ASSERT_TRUE(f->pwrite(0, as_bytes("x")));
    ASSERT_TRUE(f->sync());
    fs.simulate_crash();
    EXPECT_FALSE(fs.exists("/d/a"));

    f = fs.open("/d/b", open_mode::create).value();
    ASSERT_TRUE(f->sync());
    ASSERT_TRUE(fs.sync_dir("/d"));
    ASSERT_TRUE(fs.rename("/d/b", "/d/c"));
    fs.simulate_crash();
    EXPECT_TRUE(fs.exists("/d/b"));
    EXPECT_FALSE(fs.exists("/d/c"));
}

TEST(mem_file_ops, atomic_write_survives_crash_whole)
{
    mem_file_ops fs;
    ASSERT_TRUE(fs.create_dirs("/d"));
    ASSERT_TRUE(fs.write_file_atomic("/d/ck", as_bytes("v1")));
    ASSERT_TRUE(fs.write_file_atomic("/d/ck", as_bytes("version2")));
    fs.simulate_crash();
    EXPECT_EQ(as_string_view(read_all(fs, "/d/ck")), "version2");
}

TEST(mem_file_ops, handles_outlive_unlink)
{
    mem_file_ops fs;
    ASSERT_TRUE(fs.create_dirs("/d"));
    auto f = fs.open("/d/a", open_mode::create).value();
    ASSERT_TRUE(f->pwrite(0, as_bytes("data")));
    ASSERT_TRUE(fs.remove("/d/a"));
    bytes buf(4);
    EXPECT_EQ(f->pread(0, buf).value(), 4u);
    EXPECT_FALSE(fs.open("/d/a", open_mode::read_only));
}

TEST(faulty_file_ops, injects_errors_after_skips)
{
    mem_file_ops mem;
    faulty_file_ops fs(mem);
    ASSERT_TRUE(fs.create_dirs("/d"));
    fs.inject({faulty_file_ops::op::sync, "/d/a", 1, 1, make_error_code(errc::io_error)});
    auto f = fs.open("/d/a", open_mode::create).value();
    EXPECT_TRUE(f->sync());
    EXPECT_EQ(f->sync().error(), make_error_code(errc::io_error));
    EXPECT_TRUE(f->sync());
    EXPECT_EQ(fs.calls(faulty_file_ops::op::sync), 3);
}

TEST(faulty_file_ops, partial_write_and_space_limit)
{
    mem_file_ops mem;
    faulty_file_ops fs(mem);
    ASSERT_TRUE(fs.create_dirs("/d"));
    auto f = fs.open("/d/a", open_mode::create).value();
    fs.inject({faulty_file_ops::op::write, "", 0, 1, make_error_code(errc::io_error), true});
    EXPECT_FALSE(f->pwrite(0, as_bytes("12345678")));
    EXPECT_EQ(f->size().value(), 4u);
    fs.set_space_limit(3, "/d/");
    EXPECT_EQ(f->pwrite(4, as_bytes("abcdef")).error(), make_error_code(errc::no_space));
    EXPECT_EQ(as_string_view(read_all(mem, "/d/a")), "1234abc");
    EXPECT_EQ(fs.available_bytes("/d").value(), 0u);
    EXPECT_GT(fs.available_bytes("/").value(), 0u + 1000);
    fs.set_space_limit(UINT64_MAX, "/d/");
    EXPECT_TRUE(f->pwrite(4, as_bytes("abcdef")));
}

TEST(posix_file_ops, basic_operations)
{
    ::samsa::test::temp_dir tmp;
    auto& fs = posix_file_ops();
    auto dir = tmp / "a/b";
    ASSERT_TRUE(fs.create_dirs(dir));
    auto f = fs.open(dir + "/f", open_mode::create_exclusive).value();
    EXPECT_FALSE(fs.open(dir + "/f", open_mode::create_exclusive));
    std::vector<bytes_view> parts{as_bytes("ab"), as_bytes(""), as_bytes("cde")};
    ASSERT_TRUE(f->pwritev(0, parts));
    ASSERT_TRUE(f->sync());
    EXPECT_EQ(as_string_view(read_all(fs, dir + "/f")), "abcde");
    EXPECT_GE(f->native_handle(), 0);
    ASSERT_TRUE(fs.write_file_atomic(dir + "/ck", as_bytes("0\n0\n")));
    auto names = fs.list_dir(dir).value();
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"ck", "f"}));
    EXPECT_GT(fs.available_bytes(dir).value(), 0u);
    EXPECT_EQ(fs.open(dir + "/missing", open_mode::read_only).error(), make_error_code(errc::not_found));
    ASSERT_TRUE(fs.remove_all(tmp / "a"));
    EXPECT_FALSE(fs.exists(tmp / "a"));
}

TEST(sync_journal_file_ops, drops_what_was_not_synced)
{
    ::samsa::test::temp_dir tmp;
    auto& real = posix_file_ops();
    auto journal = tmp / "journal";
    auto root = tmp / "data";
    ASSERT_TRUE(real.create_dirs(root));
    {
        sync_journal_file_ops fs(real, journal);
        auto a = fs.open(root + "/a", open_mode::create).value();
        ASSERT_TRUE(a->pwrite(0, as_bytes("synced")));
        ASSERT_TRUE(a->sync());
        ASSERT_TRUE(a->pwrite(6, as_bytes("-lost")));
        auto b = fs.open(root + "/b", open_mode::create).value();
        ASSERT_TRUE(b->pwrite(0, as_bytes("never synced")));
        ASSERT_TRUE(fs.write_file_atomic(root + "/ck", as_bytes("checkpoint")));
    }
    auto cut = sync_journal_file_ops::drop_unsynced_data(real, journal, root).value();
    EXPECT_EQ(cut, 2u);
    EXPECT_EQ(as_string_view(read_all(real, root + "/a")), "synced");
    EXPECT_EQ(read_all(real, root + "/b").size(), 0u);
    EXPECT_EQ(as_string_view(read_all(real, root + "/ck")), "checkpoint");
}

TEST(posix_file_ops, errors_keep_the_system_reason)
{
    // Not "I/O error": the operator needs to know the directory is a file, or unwritable.
    samsa::test::temp_dir tmp;
    auto& fs = posix_file_ops();
    auto file = tmp.path() + "/plain";
    ASSERT_TRUE(fs.write_file_atomic(file, as_bytes(std::string_view("x"))));
    auto r = fs.create_dirs(file + "/sub");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), make_error_code(errc::not_a_directory));
    EXPECT_EQ(r.error().message(), "Not a directory");
    EXPECT_EQ(make_error_code(errc_from_errno(EACCES)).message(), "Permission denied");
    EXPECT_EQ(make_error_code(errc_from_errno(EROFS)).message(), "Read-only file system");
    EXPECT_EQ(make_error_code(errc_from_errno(ENAMETOOLONG)).message(), "File name too long");
}

} // namespace
} // namespace samsa::storage
