//===- ReportCommand.cpp - `quantc report` --------------------------------===//
//
// quantc report PLAN.json -o REPORT.html [--markdown REPORT.md] [--title T]
//
// Renders a bit allocation plan (quantc quantize --allocation-json) with
// quantc::report; each output is written to a temporary file and renamed
// only when both were written, so a failure leaves nothing half-written.
//
//===----------------------------------------------------------------------===//
#include "Commands.h"
#include "quantc/Calibration/Allocate.h"
#include "quantc/Report/AllocationReport.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>

namespace quantc::tool {

int runReport(const ReportOptions &o) {
  const std::string &plan = o.plan, &html = o.html, &markdown = o.markdown;
  const std::string title = o.title.empty() ? "quantc bit allocation" : o.title;
  if (plan.empty() || html.empty()) {
    llvm::errs() << "quantc report: error: needs a plan (quantc quantize --allocation-json) and "
                    "-o REPORT.html\n";
    return 2;
  }
  auto buf = llvm::MemoryBuffer::getFile(plan);
  if (!buf) {
    llvm::errs() << "quantc report: error: cannot read '" << plan << "': "
                 << buf.getError().message() << "\n";
    return 1;
  }
  auto parsed = calib::planFromJson((*buf)->getBuffer().str());
  if (!parsed) {
    llvm::errs() << "quantc report: error: '" << plan << "': "
                 << llvm::toString(parsed.takeError()) << "\n";
    return 1;
  }
  report::ReportOptions options;
  options.title = title;
  options.source = llvm::sys::path::filename(plan).str();
  std::vector<std::pair<std::string, std::string>> outputs = {
      {html, report::allocationHTML(*parsed, options)}};
  if (!markdown.empty())
    outputs.push_back({markdown, report::allocationMarkdown(*parsed, options)});
  std::vector<std::unique_ptr<llvm::ToolOutputFile>> files;
  for (auto &[path, text] : outputs) {
    std::error_code ec;
    auto f = std::make_unique<llvm::ToolOutputFile>(path, ec, llvm::sys::fs::OF_None);
    if (ec) {
      llvm::errs() << "quantc report: error: cannot write '" << path << "': " << ec.message()
                   << "\n";
      return 1;
    }
    f->os() << text;
    f->os().flush();
    if (f->os().has_error()) {
      f->os().clear_error();
      llvm::errs() << "quantc report: error: writing '" << path << "' failed\n";
      return 1;
    }
    files.push_back(std::move(f));
  }
  for (auto &f : files)
    f->keep();
  llvm::outs() << "wrote " << html << (markdown.empty() ? "" : " and " + markdown) << " ("
               << parsed->layers.size() << " layers)\n";
  return 0;
}

} // namespace quantc::tool
