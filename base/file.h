// base/file.h: reading inputs and writing outputs safely (cli-contract.md "Outputs").
//
// Inputs are regular files only. They are opened with O_NONBLOCK and checked with fstat before
// any read, so a FIFO, a directory or a device is a usage error at once, never a hang.
//
// MappedFile maps a file read-only so parsers can hold views into it without copying (a 1 GiB
// IGVM file costs no memory until its pages are touched). A file that shrinks while mapped would
// kill the process with SIGBUS; the mapping is guarded instead: a read past the file's new end
// sees zeros, and unchanged() reports the change. Anything computed from bytes() is trusted only
// once unchanged() says so:
//   IGVMKIT_ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::open(path));
//   Result<igvm::File> file = igvm::File::parse(mapped.bytes());
//   IGVMKIT_RETURN_IF_ERROR(mapped.unchanged());   // before reporting the parse's verdict
//
// Outputs are complete or absent. OutputFiles checks every output against the inputs and the other
// outputs before any work, writes each to a fresh temp file beside its target, and replaces the
// targets only when commit() is reached, that is when every output was written:
//   OutputFiles outputs;
//   outputs.addInput(manifest_path);
//   IGVMKIT_ASSIGN_OR_RETURN(OutputFile* igvm, outputs.add(out_path));   // "-" is stdout
//   ... IGVMKIT_RETURN_IF_ERROR(igvm->write(bytes)); ...
//   IGVMKIT_RETURN_IF_ERROR(outputs.commit());
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace igvmkit {

class MappedFile {
 public:
  // Maps `path` read-only; an empty file gives an empty view. Errors: kUsage for a path that is
  // not a regular file, kUnreadable for one that cannot be opened.
  static Result<MappedFile> open(const std::string& path);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  Bytes bytes() const { return Bytes(static_cast<const std::byte*>(data_), size_); }
  const std::string& path() const { return path_; }

  // Copies what `view` (a view into bytes()) shows into `out` (of the same size) with pread(2),
  // without touching the mapping. For a caller that reads most of a big file once (measure hashes
  // every page): on a virtual machine the first touch of each mapped 4 KiB page can cost more
  // than copying it, while the kernel copies from its own huge-page mapping of the page cache
  // (bench/README.md: 25% of the hashing time on the project's machine). Safe from any thread.
  // Past a shrunk end it gives zeros, as the mapping does, and unchanged() reports the change; a
  // view outside the mapping is copied from memory. kUnreadable when the file cannot be read.
  Status readView(Bytes view, std::span<std::byte> out) const;

  // OK while the file is as it was when opened: no read of the mapping went past a shrunk end,
  // and its size and modification time are unchanged. Otherwise a kUnreadable error (rule
  // "io.changed") naming the path.
  Status unchanged() const;

 private:
  MappedFile(std::string path, int fd, void* data, size_t size, int guard, int64_t mtime_ns);
  void release();

  std::string path_;
  int fd_ = -1;
  void* data_ = nullptr;
  size_t size_ = 0;
  int guard_ = -1;  // slot in the SIGBUS guard table, -1 when the file is read into memory
  int64_t mtime_ns_ = 0;  // modification time when opened
  std::unique_ptr<std::byte[]> copy_;  // the contents when no guard slot was free
};

// An input read piece by piece (large [[data]] blobs, streamed into an output): the size is taken
// once, at open(); a read that finds the file shorter, or a size or modification time that changed
// since, is "io.changed" (kUnreadable), so a file that changes while it is streamed gives one error
// and never a silently mixed result. Memory is what the caller's buffer holds.
//   IGVMKIT_ASSIGN_OR_RETURN(InputFile in, InputFile::open(path));
//   IGVMKIT_RETURN_IF_ERROR(in.read(offset, std::span(buffer).first(n)));
//   IGVMKIT_RETURN_IF_ERROR(in.unchanged());   // after the last read
class InputFile {
 public:
  // Errors as MappedFile::open().
  static Result<InputFile> open(const std::string& path);

  InputFile(InputFile&& other) noexcept;
  InputFile& operator=(InputFile&& other) noexcept;
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  ~InputFile();

  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // Fills `out` from `offset`; [offset, offset + out.size()) must lie within size().
  Status read(uint64_t offset, std::span<std::byte> out) const;
  // OK while size and modification time are those open() saw.
  Status unchanged() const;

 private:
  InputFile(std::string path, int fd, uint64_t size, int64_t mtime_ns)
      : path_(std::move(path)), fd_(fd), size_(size), mtime_ns_(mtime_ns) {}
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
  int64_t mtime_ns_ = 0;
};

// The whole file as bytes (for small inputs: keys, certificates, manifests, [[data]] blobs),
// read with read(2) (no mapping). A file whose size changes while it is read gives "io.changed".
Result<ByteVector> readFile(const std::string& path);
Result<std::string> readTextFile(const std::string& path);

// The first input of this process that changed while it was read (a MappedFile that saw its
// file shrink or whose size or modification time changed before it was closed), or OK. The CLI
// checks it before exiting, as a backstop for commands that read mapped bytes without asking.
Status inputsUnchanged();

// One output of an OutputFiles set.
class OutputFile {
 public:
  // Appends bytes (to the temp file, the in-place target, or stdout). Errors: kUnreadable with
  // rule "io.write". A temp file's data starts going to disk every 8 MiB (sync_file_range), so the
  // fsync before commit() renames it waits for little more than the last few MiB.
  Status write(Bytes bytes);
  Status write(std::string_view text) { return write(toBytes(text)); }
  // A temp file (a regular target) can be patched and read back: a streaming writer appends the
  // data, then fills in headers it could only compute afterwards. Others: false.
  bool seekable() const { return kind_ == Kind::kReplace; }
  // Overwrites bytes already written at `offset` (seekable outputs; "io.write" otherwise).
  Status writeAt(uint64_t offset, Bytes bytes);
  // Reads back bytes already written (seekable outputs).
  Status readAt(uint64_t offset, std::span<std::byte> out);
  // The bytes written so far, mapped read-only (seekable outputs), e.g. to validate the output
  // with a parser that touches only what it reads.
  Result<MappedFile> mapWritten();
  // The name messages use: the path, or "stdout" for "-".
  const std::string& name() const { return name_; }

 private:
  friend class OutputFiles;
  enum class Kind { kReplace, kInPlace, kStdout };
  Kind kind_ = Kind::kReplace;
  std::string name_;
  std::string target_;  // kReplace: the resolved path the temp file is renamed to
  std::string temp_;    // kReplace: the temp file
  int fd_ = -1;
  int slot_ = -1;    // the signal-cleanup slot of temp_
  Status error_;     // the first write error, reported again by commit()
  uint64_t appended_ = 0;   // kReplace: bytes write() appended
  uint64_t writeback_ = 0;  // kReplace: bytes handed to the disk early (see write())
};

// The outputs of one command. Destroying an uncommitted set removes its temp files; SIGINT,
// SIGTERM and SIGHUP remove them too.
class OutputFiles {
 public:
  OutputFiles() = default;
  OutputFiles(const OutputFiles&) = delete;
  OutputFiles& operator=(const OutputFiles&) = delete;
  ~OutputFiles();

  // A file the command reads; no output may name it (also through a link). Paths that do not
  // exist are ignored (reading them fails later with its own error). kUsage (rule
  // "output.names_input") when an output already added names it.
  Status addInput(const std::string& path);

  // Declares and opens an output. "-" is stdout. A regular or absent target gets a new temp file
  // (O_CREAT|O_EXCL|O_NOFOLLOW, random name) in its directory; any other existing target (a
  // device, a pipe) is opened and written in place. kUsage (rules "output.names_input",
  // "output.same_file") when `path` names an input or an earlier output; kUnreadable when the
  // temp file or target cannot be opened.
  Result<OutputFile*> add(const std::string& path);

  // Flushes and fsyncs every output, then renames each temp file over its target (and fsyncs its
  // directory). Fails, replacing nothing, when any write failed. After a failed commit() the
  // temp files are removed.
  Status commit();

 private:
  struct Identity {
    dev_t dev = 0;
    ino_t ino = 0;
    std::string path;  // canonical path when the file does not exist
    bool exists = false;
    bool operator==(const Identity& o) const;
  };
  static Identity identify(const std::string& path);
  void discard();

  std::vector<Identity> inputs_;
  std::vector<std::pair<Identity, std::unique_ptr<OutputFile>>> outputs_;
  bool committed_ = false;
};

// Writes one whole output at once (tools and generators): OutputFiles with a single output.
Status writeFile(const std::string& path, Bytes bytes);

// Flushes stdout (C and C++ streams); an "io.write" error when anything written to it failed
// (a full disk, a closed pipe with SIGPIPE ignored).
Status flushStdout();

}  // namespace igvmkit
