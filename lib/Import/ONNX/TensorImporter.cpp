//===- TensorImporter.cpp - TensorProto to ElementsAttr -------------------===//
#include "TensorImporter.h"
#include "NodeImporter.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/APInt.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace mlir;

namespace quantc::onnx_import {

Type elementTypeFromONNX(MLIRContext *ctx, int32_t dataType) {
  switch (dataType) {
  case 1: return Float32Type::get(ctx);
  case 2: return IntegerType::get(ctx, 8, IntegerType::Unsigned);
  case 3: return IntegerType::get(ctx, 8);
  case 4: return IntegerType::get(ctx, 16, IntegerType::Unsigned);
  case 5: return IntegerType::get(ctx, 16);
  case 6: return IntegerType::get(ctx, 32);
  case 7: return IntegerType::get(ctx, 64);
  case 9: return IntegerType::get(ctx, 1);
  case 10: return Float16Type::get(ctx);
  case 11: return Float64Type::get(ctx);
  case 12: return IntegerType::get(ctx, 32, IntegerType::Unsigned);
  case 13: return IntegerType::get(ctx, 64, IntegerType::Unsigned);
  case 16: return BFloat16Type::get(ctx);
  case 17: return Float8E4M3FNType::get(ctx);
  case 18: return Float8E4M3FNUZType::get(ctx);
  case 19: return Float8E5M2Type::get(ctx);
  case 20: return Float8E5M2FNUZType::get(ctx);
  case 21: return IntegerType::get(ctx, 4, IntegerType::Unsigned);
  case 22: return IntegerType::get(ctx, 4);
  default: return {};
  }
}

std::string onnxDataTypeName(int32_t dataType) {
  static const char *names[] = {"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16",
                                "INT16", "INT32", "INT64", "STRING", "BOOL",
                                "FLOAT16", "DOUBLE", "UINT32", "UINT64",
                                "COMPLEX64", "COMPLEX128", "BFLOAT16",
                                "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2",
                                "FLOAT8E5M2FNUZ", "UINT4", "INT4"};
  if (dataType >= 0 && dataType < static_cast<int32_t>(std::size(names)))
    return names[dataType];
  return "data type " + std::to_string(dataType);
}

//===----------------------------------------------------------------------===//
// External data
//===----------------------------------------------------------------------===//

FailureOr<std::shared_ptr<llvm::MemoryBuffer>>
ExternalDataStore::map(llvm::StringRef location, std::string &error) {
  if (location.empty()) {
    error = "external data has no location";
    return failure();
  }
  if (llvm::sys::path::is_absolute(location) || location.starts_with("/") ||
      location.starts_with("\\")) {
    error = "external data location '" + location.str() +
            "' is an absolute path; it must be relative to the model's directory";
    return failure();
  }
  for (auto it = llvm::sys::path::begin(location),
            e = llvm::sys::path::end(location);
       it != e; ++it) {
    if (*it == "..") {
      error = "external data location '" + location.str() +
              "' escapes the model's directory";
      return failure();
    }
  }
  llvm::SmallString<256> path(baseDir.empty() ? "." : baseDir);
  llvm::sys::path::append(path, location);
  // Symlinks must not lead out of the directory either.
  llvm::SmallString<256> realBase, realPath;
  if (llvm::sys::fs::real_path(baseDir.empty() ? "." : baseDir, realBase) ||
      llvm::sys::fs::real_path(path, realPath)) {
    error = "external data file '" + std::string(path) + "' cannot be opened";
    return failure();
  }
  llvm::StringRef rb(realBase), rp(realPath);
  if (!rp.starts_with(rb) || (rp.size() > rb.size() && rp[rb.size()] != '/')) {
    error = "external data location '" + location.str() +
            "' resolves outside the model's directory";
    return failure();
  }
  auto found = files.find(std::string(realPath));
  if (found != files.end())
    return found->second;
  auto buffer = llvm::MemoryBuffer::getFile(realPath, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    error = "external data file '" + std::string(path) +
            "' cannot be read: " + buffer.getError().message();
    return failure();
  }
  std::shared_ptr<llvm::MemoryBuffer> shared(std::move(*buffer));
  files[std::string(realPath)] = shared;
  return shared;
}

//===----------------------------------------------------------------------===//
// Tensors
//===----------------------------------------------------------------------===//

namespace {
/// Bytes per element in storage; 0 for 4-bit (packed two per byte).
int64_t storageBytes(Type elem) {
  if (elem.isInteger(1))
    return 1;
  unsigned bits = elem.getIntOrFloatBitWidth();
  if (bits == 4)
    return 0;
  return bits / 8;
}

size_t alignmentOf(const void *ptr, size_t wanted) {
  auto addr = reinterpret_cast<uintptr_t>(ptr);
  size_t align = wanted;
  while (align > 1 && (addr % align) != 0)
    align /= 2;
  return align;
}

template <typename T, typename Src>
void appendAs(std::vector<char> &out, const Src &values) {
  for (auto v : values) {
    T t = static_cast<T>(v);
    const char *p = reinterpret_cast<const char *>(&t);
    out.insert(out.end(), p, p + sizeof(T));
  }
}
} // namespace

ElementsAttr TensorImporter::import(onnx::TensorProto &t, std::string &error,
                                    bool forceDense) {
  MLIRContext *ctx = &context;
  std::string name = t.name().empty() ? "tensor" : t.name();
  Type elem = elementTypeFromONNX(ctx, t.data_type());
  if (!elem) {
    error = "tensor '" + name + "' has element type " +
            onnxDataTypeName(t.data_type()) + ", which is not supported";
    return {};
  }
  SmallVector<int64_t> dims;
  int64_t numElements = 1;
  for (int64_t d : t.dims()) {
    if (d < 0) {
      error = "tensor '" + name + "' has a negative dimension " + std::to_string(d);
      return {};
    }
    if (d != 0 && numElements > (int64_t(1) << 40) / d) {
      error = "tensor '" + name + "' is too large";
      return {};
    }
    numElements *= d;
    dims.push_back(d);
  }
  auto type = RankedTensorType::get(dims, elem);
  int64_t perElem = storageBytes(elem);
  int64_t expectedBytes = perElem ? numElements * perElem : (numElements + 1) / 2;

  ArrayRef<char> bytes;
  std::shared_ptr<llvm::MemoryBuffer> mapping;
  std::vector<char> converted;
  bool fromRaw = false;

  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    std::string location;
    int64_t offset = 0, length = -1;
    for (const auto &kv : t.external_data()) {
      try {
        if (kv.key() == "location")
          location = kv.value();
        else if (kv.key() == "offset")
          offset = std::stoll(kv.value());
        else if (kv.key() == "length")
          length = std::stoll(kv.value());
      } catch (...) {
        error = "tensor '" + name + "': external data " + kv.key() + " '" +
                kv.value() + "' is not a number";
        return {};
      }
    }
    auto mapped = external.map(location, error);
    if (failed(mapped)) {
      error = "tensor '" + name + "': " + error;
      return {};
    }
    mapping = *mapped;
    if (length < 0)
      length = static_cast<int64_t>(mapping->getBufferSize()) - offset;
    if (offset < 0 || offset + length > static_cast<int64_t>(mapping->getBufferSize())) {
      error = "tensor '" + name + "': external data [" + std::to_string(offset) +
              ", " + std::to_string(offset + length) + ") lies outside '" +
              location + "' (" + std::to_string(mapping->getBufferSize()) +
              " bytes)";
      return {};
    }
    bytes = ArrayRef<char>(mapping->getBufferStart() + offset, length);
  } else if (t.has_raw_data()) {
    bytes = ArrayRef<char>(t.raw_data().data(), t.raw_data().size());
    fromRaw = true;
  } else {
    switch (t.data_type()) {
    case 1: appendAs<float>(converted, t.float_data()); break;
    case 2: case 9: appendAs<uint8_t>(converted, t.int32_data()); break;
    case 3: appendAs<int8_t>(converted, t.int32_data()); break;
    case 4: case 10: case 16: appendAs<uint16_t>(converted, t.int32_data()); break;
    case 5: appendAs<int16_t>(converted, t.int32_data()); break;
    case 6: appendAs<int32_t>(converted, t.int32_data()); break;
    case 7: appendAs<int64_t>(converted, t.int64_data()); break;
    case 11: appendAs<double>(converted, t.double_data()); break;
    case 12: appendAs<uint32_t>(converted, t.uint64_data()); break;
    case 13: appendAs<uint64_t>(converted, t.uint64_data()); break;
    case 17: case 18: case 19: case 20: appendAs<uint8_t>(converted, t.int32_data()); break;
    // 4-bit: int32_data holds the packed bytes (two values each).
    case 21: case 22: appendAs<uint8_t>(converted, t.int32_data()); break;
    default:
      error = "tensor '" + name + "': typed storage of " +
              onnxDataTypeName(t.data_type()) + " is not supported";
      return {};
    }
    bytes = ArrayRef<char>(converted.data(), converted.size());
  }
  if (static_cast<int64_t>(bytes.size()) != expectedBytes) {
    error = "tensor '" + name + "' holds " + std::to_string(bytes.size()) +
            " bytes of data, but its shape and type need " +
            std::to_string(expectedBytes);
    return {};
  }

  bool dense = forceDense || numElements <= denseElementLimit ||
               elem.isInteger(1) || perElem == 0;
  if (dense) {
    if (elem.isInteger(1)) {
      SmallVector<bool> values;
      for (char c : bytes)
        values.push_back(c != 0);
      return DenseElementsAttr::get(type, values);
    }
    if (perElem == 0) {
      bool isSigned = !elem.isUnsignedInteger();
      SmallVector<APInt> values;
      for (int64_t i = 0; i < numElements; ++i) {
        uint8_t byte = static_cast<uint8_t>(bytes[i / 2]);
        uint8_t nib = (i % 2) ? (byte >> 4) : (byte & 0xF);
        values.push_back(APInt(4, nib, isSigned));
      }
      return DenseElementsAttr::get(type, values);
    }
    if (numElements == 0)
      return DenseElementsAttr::get(type, ArrayRef<Attribute>{});
    // A buffer of one element would be taken as a splat; that is only
    // right when the tensor has one element, which is the case here.
    return DenseElementsAttr::getFromRawBuffer(type, bytes);
  }

  size_t wanted = static_cast<size_t>(std::max<int64_t>(perElem, 1));
  AsmResourceBlob blob;
  if (mapping) {
    size_t align = alignmentOf(bytes.data(), wanted);
    if (align < wanted) {
      blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, wanted);
    } else {
      blob = UnmanagedAsmResourceBlob::allocateWithAlign(
          bytes, align,
          [keep = mapping](void *, size_t, size_t) mutable { keep.reset(); });
    }
  } else if (fromRaw && alignmentOf(bytes.data(), wanted) >= wanted) {
    // Take ownership of the protobuf's string: no copy.
    std::string *owned = t.release_raw_data();
    bytes = ArrayRef<char>(owned->data(), owned->size());
    blob = UnmanagedAsmResourceBlob::allocateWithAlign(
        bytes, wanted, [owned](void *, size_t, size_t) { delete owned; });
  } else {
    blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, wanted);
  }
  return DenseResourceElementsAttr::get(type, name, std::move(blob));
}

} // namespace quantc::onnx_import
