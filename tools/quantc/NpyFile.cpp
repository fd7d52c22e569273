//===- NpyFile.cpp - read and write numpy .npy files ----------------------===//
#include "NpyFile.h"

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
  llvm::StringRef bytes = (*buffer)->getBuffer();
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
