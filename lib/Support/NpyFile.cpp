//===- NpyFile.cpp - read and write numpy .npy files ----------------------===//
#include "quantc/Support/NpyFile.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <fstream>
#include <regex>

namespace quantc {
using cpu::DType;

namespace {
struct DescrName {
  const char *descr;
  DType dtype;
};
const DescrName kDescrs[] = {{"<f4", DType::F32}, {"<f8", DType::F64}, {"<f2", DType::F16},
                             {"<i8", DType::I64}, {"<i4", DType::I32}, {"<i2", DType::I16},
                             {"|i1", DType::I8},  {"|u1", DType::U8},  {"|b1", DType::Bool}};
} // namespace

llvm::Expected<cpu::HostTensor> readNpy(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, false, false);
  if (!buffer)
    return llvm::createStringError(path + ": cannot read: " + buffer.getError().message());
  return parseNpy((*buffer)->getBuffer(), path);
}

llvm::Expected<std::vector<std::pair<std::string, cpu::HostTensor>>>
readNpz(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, false, false);
  if (!buffer)
    return llvm::createStringError(path + ": cannot read: " + buffer.getError().message());
  llvm::StringRef z = (*buffer)->getBuffer();
  auto u16 = [&](size_t o) -> uint64_t {
    return static_cast<uint8_t>(z[o]) | (static_cast<uint64_t>(static_cast<uint8_t>(z[o + 1])) << 8);
  };
  auto u32 = [&](size_t o) -> uint64_t { return u16(o) | (u16(o + 2) << 16); };
  auto u64 = [&](size_t o) -> uint64_t { return u32(o) | (u32(o + 4) << 32); };
  std::vector<std::pair<std::string, cpu::HostTensor>> out;
  size_t o = 0;
  // The local file entries, one per array (np.savez: stored, maybe zip64).
  while (o + 30 <= z.size() && u32(o) == 0x04034b50) {
    uint64_t flags = u16(o + 6), method = u16(o + 8);
    uint64_t csize = u32(o + 18), usize = u32(o + 22);
    uint64_t nameLen = u16(o + 26), extraLen = u16(o + 28);
    if (o + 30 + nameLen + extraLen > z.size())
      return llvm::createStringError(path + ": truncated .npz entry");
    std::string name = z.substr(o + 30, nameLen).str();
    size_t e = o + 30 + nameLen, eEnd = e + extraLen;
    while (e + 4 <= eEnd) { // zip64 sizes
      uint64_t id = u16(e), len = u16(e + 2);
      if (id == 1) { // the 64-bit sizes, for the 32-bit fields that are all ones
        size_t f = e + 4;
        if (usize == 0xFFFFFFFF && f + 8 <= e + 4 + len) {
          usize = u64(f);
          f += 8;
        }
        if (csize == 0xFFFFFFFF && f + 8 <= e + 4 + len)
          csize = u64(f);
      }
      e += 4 + len;
    }
    if (method != 0)
      return llvm::createStringError(path + ": entry '" + name +
                                     "' is compressed; save with np.savez, not np.savez_compressed");
    if (flags & 8)
      return llvm::createStringError(path + ": entry '" + name +
                                     "' has no sizes in its header (streamed zip); save with np.savez");
    size_t data = eEnd;
    if (data + csize > z.size())
      return llvm::createStringError(path + ": entry '" + name + "' is truncated");
    llvm::StringRef key(name);
    key.consume_back(".npy");
    auto t = parseNpy(z.substr(data, csize), path + ":" + name);
    if (!t)
      return t.takeError();
    out.push_back({key.str(), std::move(*t)});
    o = data + csize;
  }
  if (out.empty())
    return llvm::createStringError(path + ": not an .npz file (no zip entries)");
  return out;
}

llvm::Expected<cpu::HostTensor> parseNpy(llvm::StringRef bytes, const std::string &path) {
  auto bad = [&](const std::string &why) {
    return llvm::createStringError(path + ": not a supported .npy file: " + why);
  };
  if (bytes.size() < 10 || !bytes.starts_with("\x93NUMPY"))
    return bad("missing the \\x93NUMPY magic");
  uint8_t major = bytes[6];
  size_t headerLen, offset;
  if (major == 1) {
    headerLen = static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8);
    offset = 10;
  } else {
    if (bytes.size() < 12)
      return bad("truncated header");
    headerLen = 0;
    for (int i = 0; i < 4; ++i)
      headerLen |= static_cast<size_t>(static_cast<uint8_t>(bytes[8 + i])) << (8 * i);
    offset = 12;
  }
  if (offset + headerLen > bytes.size())
    return bad("truncated header");
  std::string header = bytes.substr(offset, headerLen).str();
  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr':\\s*'([^']*)'")))
    return bad("no descr");
  std::string descr = m[1];
  cpu::HostTensor t;
  bool found = false;
  for (const auto &d : kDescrs)
    if (descr == d.descr || (descr.size() == 3 && descr[0] == '=' && descr.substr(1) == std::string(d.descr).substr(1))) {
      t.dtype = d.dtype;
      found = true;
    }
  if (!found)
    return bad("dtype '" + descr + "' is not supported");
  if (std::regex_search(header, m, std::regex("'fortran_order':\\s*True")))
    return bad("Fortran order is not supported");
  if (!std::regex_search(header, m, std::regex("'shape':\\s*\\(([^)]*)\\)")))
    return bad("no shape");
  std::string dims = m[1];
  std::regex num("\\d+");
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), num); it != std::sregex_iterator(); ++it)
    t.shape.push_back(std::stoll(it->str()));
  size_t want = t.numElements() * cpu::dtypeSize(t.dtype);
  size_t start = offset + headerLen;
  if (bytes.size() - start != want)
    return bad("holds " + std::to_string(bytes.size() - start) + " data bytes, shape needs " +
               std::to_string(want));
  t.data.assign(bytes.begin() + start, bytes.end());
  return t;
}

llvm::Error writeNpy(const std::string &path, const cpu::HostTensor &t) {
  const char *descr = nullptr;
  for (const auto &d : kDescrs)
    if (d.dtype == t.dtype)
      descr = d.descr;
  std::string shape;
  for (int64_t d : t.shape)
    shape += std::to_string(d) + ", ";
  if (t.shape.size() > 1)
    shape.erase(shape.size() - 2);
  else if (t.shape.size() == 1)
    shape.erase(shape.size() - 1);
  std::string header = std::string("{'descr': '") + descr +
                       "', 'fortran_order': False, 'shape': (" + shape + "), }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    if (!f)
      return llvm::createStringError(path + ": cannot write");
    f.write("\x93NUMPY\x01\x00", 8);
    uint16_t len = static_cast<uint16_t>(header.size());
    char lenBytes[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
    f.write(lenBytes, 2);
    f.write(header.data(), header.size());
    f.write(t.data.data(), t.data.size());
    if (!f)
      return llvm::createStringError(path + ": write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return llvm::createStringError(path + ": cannot rename the written file into place");
  return llvm::Error::success();
}
} // namespace quantc
