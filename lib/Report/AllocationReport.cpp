//===- AllocationReport.cpp - a bit allocation as HTML and Markdown -------===//
//
// See quantc/Report/AllocationReport.h.
//
//===----------------------------------------------------------------------===//
#include "quantc/Report/AllocationReport.h"
#include "SVGPlot.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

namespace quantc::report {
namespace {

using calib::AllocationPlan;
using calib::LayerPlan;

/// Okabe-Ito colours (distinguishable with colour-blindness); float grey.
const char *const kPalette[] = {"#0072B2", "#E69F00", "#009E73", "#D55E00",
                                "#CC79A7", "#56B4E9", "#F0E442", "#000000"};

struct FormatInfo {
  std::string name, color;
  double meanBpw = 0;  // over the layers it is a candidate of
  int chosen = 0;      // layers that chose it
  double bits = 0, error = 0, params = 0;
};

/// Every candidate format of the plan, most bits per weight first (float
/// first), with its colour and totals over the layers that chose it.
std::vector<FormatInfo> formatsOf(const AllocationPlan &plan) {
  std::map<std::string, std::pair<double, int>> bpw;
  for (const LayerPlan &lp : plan.layers)
    for (size_t f = 0; f < lp.formats.size(); ++f) {
      auto &e = bpw[lp.formats[f]];
      e.first += lp.params > 0 ? lp.bits[f] / lp.params : 0.0;
      e.second += 1;
    }
  std::vector<FormatInfo> out;
  for (auto &[name, e] : bpw) {
    FormatInfo fi;
    fi.name = name;
    fi.meanBpw = e.first / std::max(1, e.second);
    out.push_back(fi);
  }
  std::sort(out.begin(), out.end(), [](const FormatInfo &a, const FormatInfo &b) {
    return a.meanBpw != b.meanBpw ? a.meanBpw > b.meanBpw : a.name < b.name;
  });
  size_t next = 0;
  for (FormatInfo &fi : out)
    fi.color = fi.name == "float" ? "#999999" : kPalette[next++ % std::size(kPalette)];
  for (const LayerPlan &lp : plan.layers) {
    if (lp.chosen < 0)
      continue;
    for (FormatInfo &fi : out)
      if (fi.name == lp.formats[lp.chosen]) {
        fi.chosen += 1;
        fi.bits += lp.bits[lp.chosen];
        fi.error += lp.error[lp.chosen];
        fi.params += static_cast<double>(lp.params);
      }
  }
  return out;
}

const FormatInfo *findFormat(const std::vector<FormatInfo> &fs, const std::string &name) {
  for (const FormatInfo &f : fs)
    if (f.name == name)
      return &f;
  return nullptr;
}

std::string escapeHTML(llvm::StringRef s) {
  std::string o;
  for (char c : s) {
    switch (c) {
    case '<': o += "&lt;"; break;
    case '>': o += "&gt;"; break;
    case '&': o += "&amp;"; break;
    case '"': o += "&quot;"; break;
    case '\'': o += "&#39;"; break;
    default: o += c;
    }
  }
  return o;
}

std::string escapeMarkdown(llvm::StringRef s) {
  std::string o;
  for (char c : s) {
    if (c == '|' || c == '\\' || c == '*' || c == '_' || c == '`')
      o += '\\';
    if (c == '\n')
      c = ' ';
    o += c;
  }
  return o;
}

std::string num(double v, const char *style) {
  if (!std::isfinite(v))
    return "";
  return llvm::formatv(style, v).str();
}

/// The plan's errors at the reference are relative squared errors (shown
/// as an SQNR) rather than KL divergences.
bool isMSE(const AllocationPlan &plan) { return plan.metric.rfind("mse", 0) == 0; }

std::string metricText(const AllocationPlan &plan) {
  return isMSE(plan) ? "relative squared error of the outputs"
         : plan.metric.size() > 3 ? "KL divergence of the softmax of " + plan.metric.substr(3) +
                                        ", nats per position"
                                  : std::string("KL divergence of the outputs' softmax, nats per position");
}

std::string refLabel(const AllocationPlan &plan) {
  return isMSE(plan) ? "SQNR at ref (dB)" : "KL at ref (nats/position)";
}

/// One row of the layer table, as values and their display text.
struct Row {
  int index = 0;
  const LayerPlan *layer = nullptr;
  std::string format;
  double bpw = NAN, kib = NAN, error = NAN, share = NAN;
};

std::vector<Row> rowsOf(const AllocationPlan &plan) {
  std::vector<Row> rows;
  for (size_t l = 0; l < plan.layers.size(); ++l) {
    const LayerPlan &lp = plan.layers[l];
    Row r;
    r.index = static_cast<int>(l);
    r.layer = &lp;
    if (lp.chosen >= 0) {
      r.format = lp.formats[lp.chosen];
      r.bpw = lp.params > 0 ? lp.bits[lp.chosen] / lp.params : NAN;
      r.kib = lp.bits[lp.chosen] / 8 / 1024;
      r.error = lp.error[lp.chosen];
      r.share = plan.error > 0 ? 100.0 * r.error / plan.error : 0.0;
    }
    rows.push_back(r);
  }
  return rows;
}

/// The candidate's estimated error for a layer; NaN when not a candidate.
double candidateError(const LayerPlan &lp, const std::string &format) {
  for (size_t f = 0; f < lp.formats.size(); ++f)
    if (lp.formats[f] == format)
      return lp.error[f];
  return NAN;
}

struct Summary {
  double bpw = 0, budgetBpw = 0, mib = 0;
};

Summary summaryOf(const AllocationPlan &plan) {
  Summary s;
  double p = static_cast<double>(std::max<int64_t>(1, plan.params));
  s.bpw = plan.bits / p;
  s.budgetBpw = plan.budgetBits / p;
  s.mib = plan.bits / 8 / (1024.0 * 1024.0);
  return s;
}

// --- plots -----------------------------------------------------------------

void legend(std::ostream &os, const std::vector<FormatInfo> &fs, bool onlyChosen) {
  os << "<div class=\"legend\">";
  for (const FormatInfo &f : fs) {
    if (onlyChosen && f.chosen == 0)
      continue;
    os << "<span><i style=\"background:" << f.color << "\"></i>" << escapeHTML(f.name)
       << "</span>";
  }
  os << "</div>\n";
}

/// Every layer's estimated error against bits per weight over its integer
/// candidates (float, error 0, is off a log axis), the chosen one marked.
void sensitivityPlot(std::ostream &os, const AllocationPlan &plan,
                     const std::vector<FormatInfo> &fs) {
  double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
  for (const LayerPlan &lp : plan.layers)
    for (size_t f = 0; f < lp.formats.size(); ++f) {
      if (lp.formats[f] == "float" || lp.params <= 0 || !(lp.error[f] > 0))
        continue;
      double x = lp.bits[f] / lp.params;
      xmin = std::min(xmin, x);
      xmax = std::max(xmax, x);
      ymin = std::min(ymin, std::log10(lp.error[f]));
      ymax = std::max(ymax, std::log10(lp.error[f]));
    }
  if (!std::isfinite(xmin)) {
    os << "<p>No layer has an integer candidate with a non-zero estimated error.</p>\n";
    return;
  }
  SVGPlot p(920, 340, "Bits per weight (scales counted)", "Estimated error (log10)");
  p.setRange(xmin, xmax, std::floor(ymin), std::ceil(ymax), /*logY=*/true);
  p.begin(os, "sensitivity");
  for (const LayerPlan &lp : plan.layers) {
    std::vector<std::pair<double, double>> pts;
    for (size_t f = 0; f < lp.formats.size(); ++f)
      if (lp.formats[f] != "float" && lp.params > 0 && lp.error[f] > 0)
        pts.emplace_back(lp.bits[f] / lp.params, std::log10(lp.error[f]));
    std::sort(pts.begin(), pts.end());
    if (pts.empty())
      continue;
    os << "<polyline class=\"curve\" points=\"";
    for (auto [x, y] : pts)
      os << num(p.sx(x), "{0:f1}") << "," << num(p.sy(y), "{0:f1}") << " ";
    os << "\"><title>" << escapeHTML(lp.name) << "</title></polyline>\n";
    if (lp.chosen >= 0 && lp.formats[lp.chosen] != "float" && lp.error[lp.chosen] > 0) {
      const FormatInfo *fi = findFormat(fs, lp.formats[lp.chosen]);
      os << "<circle r=\"3\" cx=\"" << num(p.sx(lp.bits[lp.chosen] / lp.params), "{0:f1}")
         << "\" cy=\"" << num(p.sy(std::log10(lp.error[lp.chosen])), "{0:f1}") << "\" fill=\""
         << (fi ? fi->color : "#000") << "\"><title>" << escapeHTML(lp.name) << ": "
         << escapeHTML(lp.formats[lp.chosen]) << "</title></circle>\n";
    }
  }
  p.end(os);
}

/// One bar per layer in layer order, coloured by its chosen format.
template <typename Value>
void layerBars(std::ostream &os, const std::vector<Row> &rows, const std::vector<FormatInfo> &fs,
               const char *id, const char *yLabel, Value value, const char *style) {
  double ymax = 0;
  for (const Row &r : rows)
    if (std::isfinite(value(r)))
      ymax = std::max(ymax, value(r));
  if (ymax <= 0)
    ymax = 1;
  SVGPlot p(920, 260, "Layer (model order)", yLabel);
  p.setRange(0, static_cast<double>(std::max<size_t>(1, rows.size())), 0, ymax, false);
  p.begin(os, id);
  double w = p.sx(1) - p.sx(0);
  for (const Row &r : rows) {
    double v = value(r);
    if (!std::isfinite(v))
      continue;
    const FormatInfo *fi = findFormat(fs, r.format);
    double x = p.sx(r.index), y = p.sy(v);
    os << "<rect x=\"" << num(x, "{0:f2}") << "\" y=\"" << num(y, "{0:f2}") << "\" width=\""
       << num(std::max(0.5, w * 0.9), "{0:f2}") << "\" height=\""
       << num(std::max(0.0, p.sy(0) - y), "{0:f2}") << "\" fill=\""
       << (fi ? fi->color : "#000") << "\"><title>" << escapeHTML(r.layer->name) << ": "
       << escapeHTML(r.format) << ", " << num(v, style) << "</title></rect>\n";
  }
  p.end(os);
}

/// The formats' totals: layers, MiB and share of the estimated error.
void formatTotals(std::ostream &os, const AllocationPlan &plan, const std::vector<FormatInfo> &fs) {
  os << "<table class=\"totals\"><thead><tr><th>format</th><th>layers</th><th>weights</th>"
        "<th>MiB</th><th>bits per weight</th><th>estimated error</th><th>share of error</th>"
        "</tr></thead><tbody>\n";
  for (const FormatInfo &f : fs) {
    if (f.chosen == 0)
      continue;
    os << "<tr><td><i class=\"sw\" style=\"background:" << f.color << "\"></i>"
       << escapeHTML(f.name) << "</td><td>" << f.chosen << "</td><td>"
       << num(f.params, "{0:f0}") << "</td><td>" << num(f.bits / 8 / 1048576.0, "{0:f2}")
       << "</td><td>" << num(f.params > 0 ? f.bits / f.params : NAN, "{0:f2}") << "</td><td>"
       << num(f.error, "{0:e2}") << "</td><td>"
       << num(plan.error > 0 ? 100 * f.error / plan.error : 0.0, "{0:f1}") << "%</td></tr>\n";
  }
  os << "</tbody></table>\n";
}

const char *const kStyle = R"(
body{font:14px/1.4 system-ui,-apple-system,"DejaVu Sans",sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
dl.summary{display:grid;grid-template-columns:max-content auto;gap:2px 16px}
dl.summary dt{color:#555}dl.summary dd{margin:0;font-variant-numeric:tabular-nums}
svg{display:block;background:#fff;border:1px solid #ddd;margin:6px 0}
svg text{font:11px "DejaVu Sans",sans-serif;fill:#333}
svg .axis{stroke:#333;stroke-width:1}svg .grid{stroke:#eee;stroke-width:1}
svg .curve{fill:none;stroke:#555;stroke-opacity:.35;stroke-width:1}
svg .curve:hover{stroke:#c00;stroke-opacity:1;stroke-width:2}
.legend span{margin-right:14px;white-space:nowrap}.legend i,i.sw{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid #e4e4e4;padding:3px 8px;text-align:right;white-space:nowrap}
th{background:#f4f4f4;position:sticky;top:0;cursor:pointer;user-select:none}
td.name,th.name,td.fmt,table.totals td:first-child{text-align:left}
div.scroll{overflow-x:auto;max-width:100%}
th[aria-sort=ascending]::after{content:" \25B2"}th[aria-sort=descending]::after{content:" \25BC"}
.note{color:#555}
)";

const char *const kScript = R"(
(function(){
var t=document.getElementById('layers');if(!t)return;
var ths=t.tHead.rows[0].cells;
function sortBy(key,desc){
 var c=-1;for(var i=0;i<ths.length;i++)if(ths[i].getAttribute('data-key')===key)c=i;
 if(c<0)return;
 var num=ths[c].getAttribute('data-num')==='1';
 var rows=Array.prototype.slice.call(t.tBodies[0].rows);
 rows.sort(function(a,b){
  var x=a.cells[c].getAttribute('data-v'),y=b.cells[c].getAttribute('data-v'),r;
  if(num){x=parseFloat(x);y=parseFloat(y);
   if(isNaN(x)&&isNaN(y))r=0;else if(isNaN(x))return 1;else if(isNaN(y))return -1;else r=x<y?-1:x>y?1:0;}
  else r=x<y?-1:x>y?1:0;
  return desc?-r:r;});
 rows.forEach(function(r){t.tBodies[0].appendChild(r);});
 for(var i=0;i<ths.length;i++)ths[i].removeAttribute('aria-sort');
 ths[c].setAttribute('aria-sort',desc?'descending':'ascending');
 t.setAttribute('data-sorted',(desc?'-':'')+key);}
Array.prototype.forEach.call(ths,function(th){th.addEventListener('click',function(){
 var k=th.getAttribute('data-key');sortBy(k,t.getAttribute('data-sorted')===k);});});
var m=/#sort=(-?)([\w:.-]+)/.exec(location.hash);if(m)sortBy(m[2],m[1]==='-');
})();
)";

} // namespace

std::string allocationHTML(const AllocationPlan &plan, const ReportOptions &options) {
  std::vector<FormatInfo> fs = formatsOf(plan);
  std::vector<Row> rows = rowsOf(plan);
  Summary s = summaryOf(plan);
  std::ostringstream os;
  os << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>"
     << escapeHTML(options.title) << "</title>\n<style>" << kStyle << "</style></head><body>\n";
  os << "<h1>" << escapeHTML(options.title) << "</h1>\n";
  os << "<dl class=\"summary\">";
  if (!options.source.empty())
    os << "<dt>plan</dt><dd>" << escapeHTML(options.source) << "</dd>";
  os << "<dt>layers</dt><dd>" << plan.layers.size() << "</dd>"
     << "<dt>weights</dt><dd>" << plan.params << "</dd>"
     << "<dt>budget</dt><dd>" << num(s.budgetBpw, "{0:f3}") << " bits per weight</dd>"
     << "<dt>used</dt><dd>" << num(s.bpw, "{0:f3}") << " bits per weight, "
     << num(s.mib, "{0:f2}") << " MiB of weights (scales and zero points counted)</dd>"
     << "<dt>estimated error</dt><dd>" << num(plan.error, "{0:e3}")
     << " (sum over layers; " << escapeHTML(metricText(plan)) << ")</dd>"
     << "<dt>rotated first</dt><dd>" << (plan.rotate ? "yes (-rot)" : "no") << "</dd></dl>\n";
  os << "<p class=\"note\">Estimated error of a layer in a format: the model's output "
        "error (" << escapeHTML(metricText(plan)) << ") measured with that layer alone quantized at the reference format, carried to the "
        "other formats by the layer's Hessian-weighted weight error tr(D<sup>T</sup>HD) "
        "(docs/design.md, bit allocation). The allocation minimizes their sum under the "
        "budget.</p>\n";

  os << "<h2>Formats chosen</h2>\n";
  formatTotals(os, plan, fs);

  os << "<h2>Sensitivity curves</h2>\n<p class=\"note\">One line per layer over its integer "
        "candidates (float, error 0, is not drawn); the dot is the chosen format. Hover a line "
        "for its layer.</p>\n";
  legend(os, fs, /*onlyChosen=*/false);
  sensitivityPlot(os, plan, fs);

  os << "<h2>Chosen format and size per layer</h2>\n";
  legend(os, fs, /*onlyChosen=*/true);
  layerBars(os, rows, fs, "bytes", "KiB", [](const Row &r) { return r.kib; }, "{0:f1} KiB");

  os << "<h2>Error contribution per layer</h2>\n";
  legend(os, fs, /*onlyChosen=*/true);
  layerBars(os, rows, fs, "share", "% of the estimated error",
            [](const Row &r) { return r.share; }, "{0:f2}%");

  os << "<h2>Layers</h2>\n<p class=\"note\">Click a column to sort.</p>\n";
  os << "<div class=\"scroll\"><table id=\"layers\"><thead><tr>";
  struct Col {
    std::string key, label;
    bool numeric, name;
  };
  std::vector<Col> cols = {{"index", "#", true, false},
                           {"layer", "layer", false, true},
                           {"params", "weights", true, false},
                           {"format", "format", false, true},
                           {"bpw", "bits/weight", true, false},
                           {"kib", "KiB", true, false},
                           {"error", "est. error", true, false},
                           {"share", "share %", true, false},
                           {"sqnr", refLabel(plan), true, false}};
  for (const FormatInfo &f : fs)
    if (f.name != "float")
      cols.push_back({"err:" + f.name, "error at " + f.name, true, false});
  for (const Col &c : cols)
    os << "<th data-key=\"" << escapeHTML(c.key) << "\" data-num=\"" << (c.numeric ? 1 : 0)
       << "\"" << (c.name ? " class=\"name\"" : "") << ">" << escapeHTML(c.label) << "</th>";
  os << "</tr></thead>\n<tbody>\n";
  // data-v: what the script sorts by (parseFloat reads "Infinity").
  auto cell = [&os](double v, const char *style) {
    if (std::isinf(v))
      os << "<td data-v=\"" << (v > 0 ? "" : "-") << "Infinity\">" << (v > 0 ? "" : "-")
         << "inf</td>";
    else
      os << "<td data-v=\"" << num(v, "{0:e6}") << "\">" << num(v, style) << "</td>";
  };
  for (const Row &r : rows) {
    const FormatInfo *fi = findFormat(fs, r.format);
    os << "<tr>";
    cell(r.index, "{0:f0}");
    os << "<td class=\"name\" data-v=\"" << escapeHTML(r.layer->name) << "\">"
       << escapeHTML(r.layer->name) << "</td>";
    cell(static_cast<double>(r.layer->params), "{0:f0}");
    os << "<td class=\"fmt\" data-v=\"" << escapeHTML(r.format) << "\"><i class=\"sw\" "
       << "style=\"background:" << (fi ? fi->color : "#000") << "\"></i>" << escapeHTML(r.format)
       << "</td>";
    cell(r.bpw, "{0:f2}");
    cell(r.kib, "{0:f1}");
    cell(r.error, "{0:e2}");
    cell(r.share, "{0:f2}");
    if (isMSE(plan))
      cell(r.layer->sqnrRef, "{0:f1}");
    else
      cell(r.layer->refError, "{0:e2}");
    for (const FormatInfo &f : fs)
      if (f.name != "float")
        cell(candidateError(*r.layer, f.name), "{0:e2}");
    os << "</tr>\n";
  }
  os << "</tbody></table></div>\n<script>" << kScript << "</script>\n</body></html>\n";
  return os.str();
}

std::string allocationMarkdown(const AllocationPlan &plan, const ReportOptions &options) {
  std::vector<FormatInfo> fs = formatsOf(plan);
  std::vector<Row> rows = rowsOf(plan);
  Summary s = summaryOf(plan);
  std::ostringstream os;
  os << "# " << escapeMarkdown(options.title) << "\n\n";
  if (!options.source.empty())
    os << "- plan: " << escapeMarkdown(options.source) << "\n";
  os << "- layers: " << plan.layers.size() << ", weights: " << plan.params << "\n"
     << "- budget: " << num(s.budgetBpw, "{0:f3}") << " bits per weight; used "
     << num(s.bpw, "{0:f3}") << " (" << num(s.mib, "{0:f2}")
     << " MiB of weights, scales and zero points counted)\n"
     << "- estimated error (sum over layers): " << num(plan.error, "{0:e3}") << " ("
     << escapeMarkdown(metricText(plan)) << ")\n"
     << "- rotated first: " << (plan.rotate ? "yes (-rot)" : "no") << "\n\n";
  os << "## Formats chosen\n\n| format | layers | weights | MiB | bits per weight | estimated "
        "error | share of error |\n|---|---:|---:|---:|---:|---:|---:|\n";
  for (const FormatInfo &f : fs)
    if (f.chosen > 0)
      os << "| " << escapeMarkdown(f.name) << " | " << f.chosen << " | "
         << num(f.params, "{0:f0}") << " | " << num(f.bits / 8 / 1048576.0, "{0:f2}") << " | "
         << num(f.params > 0 ? f.bits / f.params : NAN, "{0:f2}") << " | "
         << num(f.error, "{0:e2}") << " | "
         << num(plan.error > 0 ? 100 * f.error / plan.error : 0.0, "{0:f1}") << "% |\n";
  os << "\n## Layers\n\n| # | layer | weights | format | bits/weight | KiB | est. error | share % "
        "| "
     << refLabel(plan) << " |";
  for (const FormatInfo &f : fs)
    if (f.name != "float")
      os << " error at " << escapeMarkdown(f.name) << " |";
  os << "\n|---:|---|---:|---|---:|---:|---:|---:|---:|";
  for (const FormatInfo &f : fs)
    if (f.name != "float")
      os << "---:|";
  os << "\n";
  for (const Row &r : rows) {
    os << "| " << r.index << " | " << escapeMarkdown(r.layer->name) << " | " << r.layer->params
       << " | " << escapeMarkdown(r.format) << " | " << num(r.bpw, "{0:f2}") << " | "
       << num(r.kib, "{0:f1}") << " | " << num(r.error, "{0:e2}") << " | "
       << num(r.share, "{0:f2}") << " | "
       << (!isMSE(plan)                  ? num(r.layer->refError, "{0:e2}")
           : std::isinf(r.layer->sqnrRef) ? std::string("inf")
                                          : num(r.layer->sqnrRef, "{0:f1}"))
       << " |";
    for (const FormatInfo &f : fs)
      if (f.name != "float")
        os << " " << num(candidateError(*r.layer, f.name), "{0:e2}") << " |";
    os << "\n";
  }
  return os.str();
}

} // namespace quantc::report
