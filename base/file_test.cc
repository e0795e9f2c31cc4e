// Inputs and outputs (base/file.h), including the reproductions of issue 12 items 3 and 4.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <string>
#include <vector>

#include "base/file.h"
#include "base/testing/matchers.h"

namespace igvmkit {
namespace {

using testing::HasRule;
using testing::StatusIs;

// A fresh directory under TEST_TMPDIR for each test.
class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    std::string pattern = std::string(tmp ? tmp : "/tmp") + "/file_test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { EXPECT_EQ(std::system(("rm -rf '" + dir_ + "'").c_str()), 0); }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  void put(const std::string& name, const std::string& contents) const {
    FILE* f = std::fopen(path(name).c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(contents.data(), 1, contents.size(), f);
    std::fclose(f);
  }

  std::string get(const std::string& name) const {
    Result<std::string> text = readTextFile(path(name));
    return text.ok() ? *text : "<" + text.error().message + ">";
  }

  // Every name in the directory, to see that no temp file is left behind.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir_.c_str());
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") {
        out.push_back(n);
      }
    }
    ::closedir(d);
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string dir_;
};

TEST_F(FileTest, MapsAndReadsRegularFiles) {
  put("a", "hello");
  Result<MappedFile> mapped = MappedFile::open(path("a"));
  ASSERT_TRUE(mapped.ok());
  EXPECT_EQ(hexBytes(mapped->bytes()), "68656c6c6f");
  EXPECT_TRUE(mapped->unchanged().ok());
  EXPECT_EQ(get("a"), "hello");
  EXPECT_THAT(MappedFile::open(path("missing")).status(), StatusIs(Code::kUnreadable));
  EXPECT_THAT(readFile(path("missing")).status(), StatusIs(Code::kUnreadable));
}

// Issue 12 item 3: a FIFO as an input hung forever in open().
TEST_F(FileTest, SpecialFilesAreUsageErrorsNotHangs) {
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0600), 0);
  for (const std::string& p : {path("fifo"), dir_, std::string("/dev/null")}) {
    SCOPED_TRACE(p);
    Result<MappedFile> mapped = MappedFile::open(p);
    EXPECT_THAT(mapped.status(), StatusIs(Code::kUsage, "input.not_regular"));
    EXPECT_THAT(readFile(p).status(), StatusIs(Code::kUsage, "input.not_regular"));
  }
  EXPECT_EQ(MappedFile::open(path("fifo")).error().message,
            path("fifo") + ": not a regular file (a FIFO); inputs must be regular files");
}

// Issue 12 item 3: a mapped input that shrinks killed the process with SIGBUS.
TEST_F(FileTest, ShrinkingMappedFileReadsZerosAndReportsTheChange) {
  const long page = ::sysconf(_SC_PAGESIZE);
  put("big", std::string(3 * page, 'x'));
  {
    Result<MappedFile> mapped = MappedFile::open(path("big"));
    ASSERT_TRUE(mapped.ok());
    ASSERT_EQ(::truncate(path("big").c_str(), page), 0);
    Bytes b = mapped->bytes();
    EXPECT_EQ(b[0], std::byte{'x'});
    EXPECT_EQ(b[2 * page + 5], std::byte{0});  // past the new end: zeros, not SIGBUS
    EXPECT_THAT(mapped->unchanged(), StatusIs(Code::kUnreadable, "io.changed"));
    EXPECT_EQ(mapped->unchanged().error().message,
              path("big") + ": the file changed while it was read");
  }
  // The process remembers it after the mapping is gone (the CLI's backstop).
  EXPECT_THAT(inputsUnchanged(), HasRule("io.changed"));
}

// readView() gives what the mapping shows, read with pread: any sub-view, from any offset, a
// view from outside the mapping, zeros past a shrunk end (with the change reported), and it
// refuses room of the wrong size.
TEST_F(FileTest, ReadViewCopiesWhatTheMappingShows) {
  const long page = ::sysconf(_SC_PAGESIZE);
  std::string contents(3 * page + 100, '\0');
  for (size_t i = 0; i < contents.size(); ++i) {
    contents[i] = static_cast<char>('a' + i % 23);
  }
  put("whole", contents);
  Result<MappedFile> mapped = MappedFile::open(path("whole"));
  ASSERT_TRUE(mapped.ok());
  const Bytes all = mapped->bytes();
  for (auto [offset, size] : {std::pair<size_t, size_t>{0, all.size()}, {1, 7}, {page - 3, 10},
                              {2 * page, page + 100}, {all.size() - 1, 1}, {5, 0}}) {
    ByteVector out(size, std::byte{0xee});
    ASSERT_TRUE(mapped->readView(all.subspan(offset, size), out).ok()) << offset;
    EXPECT_TRUE(std::equal(out.begin(), out.end(), all.begin() + offset)) << offset;
  }
  const ByteVector elsewhere = {std::byte{1}, std::byte{2}};
  ByteVector copied(2);
  ASSERT_TRUE(mapped->readView(elsewhere, copied).ok());
  EXPECT_EQ(copied, elsewhere);
  ByteVector small(3);
  EXPECT_THAT(mapped->readView(all.first(4), small), StatusIs(Code::kInternal));

  put("shrinks", std::string(3 * page, 'x'));
  Result<MappedFile> shrinking = MappedFile::open(path("shrinks"));
  ASSERT_TRUE(shrinking.ok());
  ASSERT_EQ(::truncate(path("shrinks").c_str(), page), 0);
  ByteVector tail(2 * page, std::byte{0xee});
  ASSERT_TRUE(shrinking->readView(shrinking->bytes().subspan(page / 2, 2 * page), tail).ok());
  EXPECT_EQ(tail[0], std::byte{'x'});
  EXPECT_EQ(tail[page / 2 - 1], std::byte{'x'});
  EXPECT_EQ(tail[page / 2], std::byte{0});
  EXPECT_EQ(tail.back(), std::byte{0});
  EXPECT_THAT(shrinking->unchanged(), HasRule("io.changed"));
}

TEST_F(FileTest, RewrittenMappedFileIsReported) {
  put("f", "aaaa");
  Result<MappedFile> mapped = MappedFile::open(path("f"));
  ASSERT_TRUE(mapped.ok());
  struct timespec later[2] = {{0, UTIME_OMIT}, {12345, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path("f").c_str(), later, 0), 0);
  EXPECT_THAT(mapped->unchanged(), HasRule("io.changed"));
}

TEST_F(FileTest, InputFileReadsPiecesAndReportsAChange) {
  put("f", "0123456789");
  Result<InputFile> in = InputFile::open(path("f"));
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->size(), 10u);
  std::byte buf[4];
  ASSERT_TRUE(in->read(3, buf).ok());
  EXPECT_EQ(buf[0], std::byte{'3'});
  EXPECT_EQ(buf[3], std::byte{'6'});
  EXPECT_TRUE(in->unchanged().ok());
  EXPECT_FALSE(in->read(8, buf).ok());  // past the size open() took
  // Shrunk while being read: the read that finds the end early says so.
  ASSERT_EQ(::truncate(path("f").c_str(), 5), 0);
  EXPECT_THAT(in->read(4, buf), StatusIs(Code::kUnreadable, "io.changed"));
  EXPECT_THAT(in->unchanged(), HasRule("io.changed"));
  // Grown: every read still succeeds, unchanged() does not.
  put("g", "abcd");
  Result<InputFile> g = InputFile::open(path("g"));
  ASSERT_TRUE(g.ok());
  put("g", "abcdefgh");
  ASSERT_TRUE(g->read(0, buf).ok());
  EXPECT_THAT(g->unchanged(), HasRule("io.changed"));
  EXPECT_THAT(InputFile::open(dir_).status(), StatusIs(Code::kUsage, "input.not_regular"));
}

TEST_F(FileTest, SeekableOutputPatchesAndReadsBack) {
  OutputFiles outputs;
  Result<OutputFile*> out = outputs.add(path("out"));
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE((*out)->seekable());
  ASSERT_TRUE((*out)->write("....data").ok());
  ASSERT_TRUE((*out)->writeAt(0, toBytes(std::string_view("head"))).ok());
  std::byte back[4];
  ASSERT_TRUE((*out)->readAt(4, back).ok());
  EXPECT_EQ(back[0], std::byte{'d'});
  Result<MappedFile> mapped = (*out)->mapWritten();
  ASSERT_TRUE(mapped.ok());
  EXPECT_EQ(mapped->bytes().size(), 8u);
  ASSERT_TRUE(outputs.commit().ok());
  EXPECT_EQ(get("out"), "headdata");
  OutputFiles other;
  Result<OutputFile*> stdout_out = other.add("-");
  ASSERT_TRUE(stdout_out.ok());
  EXPECT_FALSE((*stdout_out)->seekable());
  EXPECT_THAT((*stdout_out)->writeAt(0, toBytes(std::string_view("x"))), HasRule("io.write"));
}

TEST_F(FileTest, OutputReplacesTheTargetOnlyOnCommit) {
  put("out", "old");
  {
    OutputFiles outputs;
    Result<OutputFile*> out = outputs.add(path("out"));
    ASSERT_TRUE(out.ok());
    ASSERT_TRUE((*out)->write("new").ok());
    EXPECT_EQ(get("out"), "old");
    EXPECT_EQ(names().size(), 2u);  // out and the temp file beside it
    // No commit: the temp file goes, the target stays.
  }
  EXPECT_EQ(names(), std::vector<std::string>{"out"});
  EXPECT_EQ(get("out"), "old");
  OutputFiles outputs;
  Result<OutputFile*> out = outputs.add(path("out"));
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE((*out)->write("new").ok());
  ASSERT_TRUE(outputs.commit().ok());
  EXPECT_EQ(get("out"), "new");
  EXPECT_EQ(names(), std::vector<std::string>{"out"});
}

TEST_F(FileTest, OutputKeepsTheModeOfTheFileItReplaces) {
  put("out", "old");
  ASSERT_EQ(::chmod(path("out").c_str(), 0751), 0);
  ASSERT_TRUE(writeFile(path("out"), toBytes("new")).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path("out").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0751u);
}

// Issue 12 item 4: OUT.tmp.<pid> was predictable and opened without O_EXCL|O_NOFOLLOW, so a
// symbolic link planted there made the build overwrite the file it pointed to.
TEST_F(FileTest, PlantedLinkAtTheOldTempNameIsNotFollowed) {
  put("victim", "precious");
  const std::string planted = path("out") + ".tmp." + std::to_string(::getpid());
  ASSERT_EQ(::symlink(path("victim").c_str(), planted.c_str()), 0);
  ASSERT_TRUE(writeFile(path("out"), toBytes("built")).ok());
  EXPECT_EQ(get("victim"), "precious");
  EXPECT_EQ(get("out"), "built");
}

// Issue 12 item 4: a character device or pipe given as -o was replaced by a regular file.
TEST_F(FileTest, NonRegularTargetIsWrittenInPlace) {
  ASSERT_EQ(::mkfifo(path("pipe").c_str(), 0600), 0);
  const int reader = ::open(path("pipe").c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  ASSERT_TRUE(writeFile(path("pipe"), toBytes("through")).ok());
  char buf[16] = {};
  EXPECT_EQ(::read(reader, buf, sizeof buf), 7);
  EXPECT_STREQ(buf, "through");
  ::close(reader);
  struct stat st {};
  ASSERT_EQ(::stat(path("pipe").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(names(), std::vector<std::string>{"pipe"});
  // /dev/null stays a device.
  ASSERT_TRUE(writeFile("/dev/null", toBytes("x")).ok());
  ASSERT_EQ(::stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
}

// A path that names a descriptor (/dev/fd/N, /proc/self/fd/N, /dev/stdout) is written through
// that descriptor, and the link is never replaced: a pipe has no path to rename over, and
// replacing once turned /dev/stdout itself into a regular file.
TEST_F(FileTest, DescriptorPathsAreWrittenThroughTheDescriptor) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  for (const std::string& name :
       {"/dev/fd/" + std::to_string(fds[1]), "/proc/self/fd/" + std::to_string(fds[1])}) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(writeFile(name, toBytes("piped")).ok());
    char buf[16] = {};
    EXPECT_EQ(::read(fds[0], buf, sizeof buf), 5);
    EXPECT_STREQ(buf, "piped");
  }
  struct stat st {};
  ASSERT_EQ(::lstat("/dev/fd", &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  // /dev/stdout is stdout itself: it and "-" are the same output.
  OutputFiles outputs;
  Result<OutputFile*> out = outputs.add("/dev/stdout");
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE((*out)->seekable());
  EXPECT_THAT(outputs.add("-").status(), HasRule("output.same_file"));
  ::close(fds[0]);
  ::close(fds[1]);
}

// A link to a file that has no path (deleted, reached through /proc) is refused, not replaced.
TEST_F(FileTest, LinkToAFileWithoutAPathIsRefusedAndKept) {
  put("gone", "old");
  const int fd = ::open(path("gone").c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::unlink(path("gone").c_str()), 0);
  const std::string target = "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(fd);
  ASSERT_EQ(::symlink(target.c_str(), path("link").c_str()), 0);
  EXPECT_THAT(writeFile(path("link"), toBytes("new")), StatusIs(Code::kUsage, "output.unnamed"));
  struct stat st {};
  ASSERT_EQ(::lstat(path("link").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(names(), std::vector<std::string>{"link"});
  ::close(fd);
}

// Issue 12 item 4: -o naming an input, and two outputs naming one file.
TEST_F(FileTest, OutputsNamingInputsOrEachOtherAreUsageErrors) {
  put("in", "input");
  ASSERT_EQ(::symlink(path("in").c_str(), path("link").c_str()), 0);
  OutputFiles outputs;
  ASSERT_TRUE(outputs.addInput(path("in")).ok());
  EXPECT_THAT(outputs.add(path("in")).status(), StatusIs(Code::kUsage, "output.names_input"));
  EXPECT_THAT(outputs.add(path("link")).status(), HasRule("output.names_input"));
  ASSERT_TRUE(outputs.add(path("x")).ok());
  EXPECT_THAT(outputs.add(dir_ + "/../" + dir_.substr(dir_.rfind('/') + 1) + "/x").status(),
              StatusIs(Code::kUsage, "output.same_file"));
  ASSERT_TRUE(outputs.add("-").ok());
  EXPECT_THAT(outputs.add("-").status(), HasRule("output.same_file"));
  // An input declared after the output it clashes with is refused too.
  put("late", "input");
  ASSERT_TRUE(outputs.add(path("late")).ok());
  EXPECT_THAT(outputs.addInput(path("late")), HasRule("output.names_input"));
  EXPECT_EQ(get("in"), "input");
}

// Issue 12 item 4: nothing is replaced unless every output succeeded.
TEST_F(FileTest, OneFailedOutputReplacesNothing) {
  put("a", "old");
  OutputFiles outputs;
  Result<OutputFile*> a = outputs.add(path("a"));
  Result<OutputFile*> full = outputs.add("/dev/full");
  ASSERT_TRUE(a.ok() && full.ok());
  ASSERT_TRUE((*a)->write("new").ok());
  EXPECT_THAT((*full)->write("x"), StatusIs(Code::kUnreadable, "io.write"));
  EXPECT_THAT(outputs.commit(), HasRule("io.write"));
  EXPECT_EQ(get("a"), "old");
  EXPECT_EQ(names(), std::vector<std::string>{"a"});
}

// Issue 12 item 4: SIGINT/SIGTERM left OUT.tmp.PID behind.
TEST_F(FileTest, TerminatingSignalRemovesTempFiles) {
  for (int sig : {SIGINT, SIGTERM}) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      OutputFiles outputs;
      Result<OutputFile*> out = outputs.add(path("out"));
      if (!out.ok() || !(*out)->write("partial").ok()) {
        ::_exit(3);
      }
      ::raise(sig);
      ::_exit(4);  // not reached: the signal ends the process
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig) << status;
    EXPECT_TRUE(names().empty());
  }
}

// Issue 12 item 4: failed writes to stdout were ignored (`measure --json > /dev/full` exited 0).
TEST_F(FileTest, StdoutWriteErrorsAreReported) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const int full = ::open("/dev/full", O_WRONLY);
    ::dup2(full, STDOUT_FILENO);
    std::printf("{\"digest\": \"...\"}\n");
    Status flushed = flushStdout();
    ::_exit(flushed.ok() ? 0 : flushed.error().rule == "io.write" ? 7 : 8);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 7);
}

}  // namespace
}  // namespace igvmkit
