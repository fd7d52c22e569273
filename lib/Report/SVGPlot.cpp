//===- SVGPlot.cpp - axes of an inline SVG plot ---------------------------===//
#include "SVGPlot.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>

namespace quantc::report {

SVGPlot::SVGPlot(double width, double height, std::string xLabel, std::string yLabel)
    : width_(width), height_(height), xLabel_(std::move(xLabel)), yLabel_(std::move(yLabel)) {}

void SVGPlot::setRange(double xmin, double xmax, double ymin, double ymax, bool logY) {
  // A degenerate range gets some room so that its marks stay inside.
  if (!(xmax > xmin)) {
    xmin -= 0.5;
    xmax += 0.5;
  }
  if (!(ymax > ymin)) {
    ymin -= 1;
    ymax += 1;
  }
  xmin_ = xmin;
  xmax_ = xmax;
  ymin_ = ymin;
  ymax_ = ymax;
  logY_ = logY;
}

double SVGPlot::sx(double x) const {
  return left_ + (x - xmin_) / (xmax_ - xmin_) * (width_ - left_ - right_);
}

double SVGPlot::sy(double y) const {
  return top_ + (ymax_ - y) / (ymax_ - ymin_) * (height_ - top_ - bottom_);
}

std::vector<double> SVGPlot::ticks(double lo, double hi, int target) {
  std::vector<double> out;
  if (!(hi > lo) || target < 1)
    return out;
  double raw = (hi - lo) / target;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step)
    out.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  return out;
}

namespace {
std::string label(double v) {
  double a = std::fabs(v);
  if (a == 0)
    return "0";
  if (a >= 1e5 || a < 1e-3)
    return llvm::formatv("{0:e1}", v).str();
  if (a == std::floor(a))
    return llvm::formatv("{0:f0}", v).str();
  return llvm::formatv("{0:g}", v).str();
}
} // namespace

void SVGPlot::begin(std::ostream &os, const char *id) const {
  auto f = [](double v) { return llvm::formatv("{0:f1}", v).str(); };
  os << "<svg id=\"" << id << "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << f(width_)
     << "\" height=\"" << f(height_) << "\" viewBox=\"0 0 " << f(width_) << " " << f(height_)
     << "\" role=\"img\">\n";
  double x0 = sx(xmin_), x1 = sx(xmax_), y0 = sy(ymin_), y1 = sy(ymax_);
  std::vector<double> yt;
  if (logY_)
    for (double t = std::ceil(ymin_); t <= ymax_ + 1e-9; t += 1)
      yt.push_back(t);
  else
    yt = ticks(ymin_, ymax_, 5);
  for (double t : yt) {
    os << "<line class=\"grid\" x1=\"" << f(x0) << "\" x2=\"" << f(x1) << "\" y1=\"" << f(sy(t))
       << "\" y2=\"" << f(sy(t)) << "\"/>";
    os << "<text x=\"" << f(x0 - 6) << "\" y=\"" << f(sy(t) + 4) << "\" text-anchor=\"end\">"
       << (logY_ ? "1e" + llvm::formatv("{0:f0}", t).str() : label(t)) << "</text>\n";
  }
  for (double t : ticks(xmin_, xmax_, 8)) {
    os << "<line class=\"axis\" x1=\"" << f(sx(t)) << "\" x2=\"" << f(sx(t)) << "\" y1=\""
       << f(y0) << "\" y2=\"" << f(y0 + 4) << "\"/>";
    os << "<text x=\"" << f(sx(t)) << "\" y=\"" << f(y0 + 16) << "\" text-anchor=\"middle\">"
       << label(t) << "</text>\n";
  }
  os << "<line class=\"axis\" x1=\"" << f(x0) << "\" x2=\"" << f(x1) << "\" y1=\"" << f(y0)
     << "\" y2=\"" << f(y0) << "\"/><line class=\"axis\" x1=\"" << f(x0) << "\" x2=\"" << f(x0)
     << "\" y1=\"" << f(y0) << "\" y2=\"" << f(y1) << "\"/>\n";
  os << "<text x=\"" << f((x0 + x1) / 2) << "\" y=\"" << f(height_ - 6)
     << "\" text-anchor=\"middle\">" << xLabel_ << "</text>\n";
  os << "<text transform=\"translate(14," << f((y0 + y1) / 2)
     << ") rotate(-90)\" text-anchor=\"middle\">" << yLabel_ << "</text>\n";
}

void SVGPlot::end(std::ostream &os) const { os << "</svg>\n"; }

} // namespace quantc::report
