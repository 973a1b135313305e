#include "raster/expression.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <regex>
#include <set>

namespace scigate::raster {

// ---------------------------------------------------------------------------- syntax tree

enum class NodeKind { kNumber, kBand, kUnary, kBinary, kCall };

struct ExprNode {
  NodeKind kind = NodeKind::kNumber;
  std::string op;  // operator or function name
  double number = 0;
  bool integer_literal = false;
  int band = 0;
  std::vector<std::shared_ptr<const ExprNode>> args;
};

namespace {

using NodePtr = std::shared_ptr<const ExprNode>;

// Arity of each function numexpr knows (the allow-list: any other name is an error).
const std::map<std::string, int, std::less<>>& functions() {
  static const std::map<std::string, int, std::less<>> table{
      {"where", 3},   {"sqrt", 1},  {"abs", 1},     {"exp", 1},     {"expm1", 1},   {"log", 1},     {"log10", 1},
      {"log1p", 1},   {"sin", 1},   {"cos", 1},     {"tan", 1},     {"arcsin", 1},  {"arccos", 1},  {"arctan", 1},
      {"arctan2", 2}, {"sinh", 1},  {"cosh", 1},    {"tanh", 1},    {"arcsinh", 1}, {"arccosh", 1}, {"arctanh", 1},
      {"ceil", 1},    {"floor", 1}, {"minimum", 2}, {"maximum", 2},
  };
  return table;
}

// ---------------------------------------------------------------------------- lexer

enum class Tok { kNumber, kName, kOp, kEnd };

struct Token {
  Tok type = Tok::kEnd;
  std::string text;
  size_t pos = 0;  // 0-based offset in the whole expression
};

Error syntax_error(size_t pos, const std::string& what) {
  return Error::bad_request("invalid expression at position " + std::to_string(pos + 1) + ": " + what);
}

size_t scan_number(std::string_view s, size_t i) {
  const auto digits = [&](size_t j) {
    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
    return j;
  };
  i = digits(i);
  if (i < s.size() && s[i] == '.') i = digits(i + 1);
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    size_t j = i + 1;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
    if (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) i = digits(j);
  }
  return i;
}

Result<std::vector<Token>> tokenize(std::string_view s, size_t base) {
  static const char* kOps[] = {"**", "//", "<=", ">=", "==", "!=", "+", "-", "*", "/",
                               "%",  "<",  ">",  "&",  "|",  "~",  "(", ")", ","};
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = s[i];
    if (std::isspace(c)) {
      ++i;
    } else if (std::isdigit(c) ||
               (c == '.' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      const size_t end = scan_number(s, i);
      tokens.push_back({Tok::kNumber, std::string(s.substr(i, end - i)), base + i});
      i = end;
    } else if (std::isalpha(c) || c == '_') {
      size_t end = i;
      while (end < s.size() && (std::isalnum(static_cast<unsigned char>(s[end])) || s[end] == '_')) ++end;
      tokens.push_back({Tok::kName, std::string(s.substr(i, end - i)), base + i});
      i = end;
    } else {
      const char* match = nullptr;
      for (const char* op : kOps) {
        if (s.substr(i).starts_with(op)) {
          match = op;
          break;
        }
      }
      if (match == nullptr) return syntax_error(base + i, std::string("unexpected character '") + s[i] + "'");
      tokens.push_back({Tok::kOp, match, base + i});
      i += std::string_view(match).size();
    }
  }
  tokens.push_back({Tok::kEnd, "", base + s.size()});
  return tokens;
}

// ---------------------------------------------------------------------------- parser

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Result<NodePtr> parse_block() {
    auto node = comparison();
    if (node && peek().type != Tok::kEnd) return syntax_error(peek().pos, "unexpected '" + peek().text + "'");
    return node;
  }

 private:
  const Token& peek() const { return tokens_[pos_]; }
  bool accept(std::string_view op) {
    if (peek().type == Tok::kOp && peek().text == op) {
      ++pos_;
      return true;
    }
    return false;
  }
  std::string describe(const Token& t) const { return t.type == Tok::kEnd ? "end of expression" : "'" + t.text + "'"; }

  static NodePtr make(NodeKind kind, std::string op, std::vector<NodePtr> args) {
    auto n = std::make_shared<ExprNode>();
    n->kind = kind, n->op = std::move(op), n->args = std::move(args);
    return n;
  }

  // Python chains a < b < c as (a < b) & (b < c).
  Result<NodePtr> comparison() {
    auto left = bit_or();
    if (!left) return left;
    NodePtr result;
    NodePtr lhs = *left;
    for (;;) {
      std::string op;
      for (const char* candidate : {"<=", ">=", "==", "!=", "<", ">"}) {
        if (accept(candidate)) {
          op = candidate;
          break;
        }
      }
      if (op.empty()) break;
      auto rhs = bit_or();
      if (!rhs) return rhs;
      NodePtr cmp = make(NodeKind::kBinary, op, {lhs, *rhs});
      result = result ? make(NodeKind::kBinary, "&", {result, cmp}) : cmp;
      lhs = *rhs;
    }
    return result ? result : lhs;
  }

  template <typename Next>
  Result<NodePtr> left_assoc(std::initializer_list<const char*> ops, Next next) {
    auto left = (this->*next)();
    if (!left) return left;
    NodePtr node = *left;
    for (;;) {
      const char* matched = nullptr;
      for (const char* op : ops) {
        if (accept(op)) {
          matched = op;
          break;
        }
      }
      if (matched == nullptr) return node;
      auto right = (this->*next)();
      if (!right) return right;
      node = make(NodeKind::kBinary, matched, {node, *right});
    }
  }

  Result<NodePtr> bit_or() { return left_assoc({"|"}, &Parser::bit_and); }
  Result<NodePtr> bit_and() { return left_assoc({"&"}, &Parser::arith); }
  Result<NodePtr> arith() { return left_assoc({"+", "-"}, &Parser::term); }
  Result<NodePtr> term() { return left_assoc({"*", "//", "/", "%"}, &Parser::factor); }

  Result<NodePtr> factor() {
    for (const char* op : {"-", "+", "~"}) {
      if (accept(op)) {
        auto operand = factor();
        if (!operand) return operand;
        return make(NodeKind::kUnary, op, {*operand});
      }
    }
    return power();
  }

  Result<NodePtr> power() {
    auto base = primary();
    if (!base || !accept("**")) return base;
    auto exponent = factor();
    if (!exponent) return exponent;
    return make(NodeKind::kBinary, "**", {*base, *exponent});
  }

  Result<NodePtr> primary() {
    const Token t = peek();
    if (t.type == Tok::kNumber) return number(t);
    if (t.type == Tok::kName) return name(t);
    if (accept("(")) {
      auto inner = comparison();
      if (!inner) return inner;
      if (!accept(")")) return syntax_error(peek().pos, "expected ')' but found " + describe(peek()));
      return inner;
    }
    return syntax_error(t.pos, "expected a number, a band or '(' but found " + describe(t));
  }

  Result<NodePtr> number(const Token& t) {
    ++pos_;
    auto n = std::make_shared<ExprNode>();
    n->kind = NodeKind::kNumber;
    n->number = std::strtod(t.text.c_str(), nullptr);
    n->integer_literal =
        t.text.find_first_of(".eE") == std::string::npos && std::abs(n->number) <= std::numeric_limits<int32_t>::max();
    return NodePtr(n);
  }

  Result<NodePtr> name(const Token& t) {
    ++pos_;
    std::string lower = t.text;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (accept("(")) return call(t, lower);
    static const std::regex kBand("b([0-9]+)");
    std::smatch m;
    if (std::regex_match(lower, m, kBand) && m[1].length() <= 6 && std::stoi(m[1]) >= 1) {
      auto n = std::make_shared<ExprNode>();
      n->kind = NodeKind::kBand;
      n->band = std::stoi(m[1]);
      return NodePtr(n);
    }
    return syntax_error(t.pos, "unknown name '" + t.text + "' (bands are b1, b2, ...)");
  }

  Result<NodePtr> call(const Token& t, const std::string& fn) {
    auto it = functions().find(fn);
    if (it == functions().end()) return syntax_error(t.pos, "unknown function '" + t.text + "'");
    std::vector<NodePtr> args;
    if (!accept(")")) {
      do {
        auto arg = comparison();
        if (!arg) return arg;
        args.push_back(*arg);
      } while (accept(","));
      if (!accept(")")) return syntax_error(peek().pos, "expected ',' or ')' but found " + describe(peek()));
    }
    if (static_cast<int>(args.size()) != it->second) {
      return syntax_error(t.pos, fn + "() takes " + std::to_string(it->second) + " argument(s), " +
                                     std::to_string(args.size()) + " given");
    }
    return make(NodeKind::kCall, fn, std::move(args));
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------- types

// numexpr's kinds, ordered by promotion. kWeakFloat is a float literal: it follows a
// float32 operand (numexpr keeps float32 expressions in float32) and is float64 otherwise.
enum class Kind { kBool, kInt, kWeakFloat, kFloat32, kFloat64 };

Kind promote(Kind a, Kind b) {
  if ((a == Kind::kWeakFloat && b == Kind::kFloat32) || (b == Kind::kWeakFloat && a == Kind::kFloat32)) {
    return Kind::kFloat32;
  }
  if ((a == Kind::kWeakFloat && b == Kind::kInt) || (b == Kind::kWeakFloat && a == Kind::kInt)) return Kind::kFloat64;
  return std::max(a, b);
}

Kind float_of(Kind k) { return (k == Kind::kFloat32 || k == Kind::kWeakFloat) ? k : Kind::kFloat64; }

Kind band_kind(DataType t) {
  switch (t) {
    case DataType::kFloat32:
      return Kind::kFloat32;
    case DataType::kFloat64:
    case DataType::kUInt32:  // numexpr: int64, which Image types cannot hold
      return Kind::kFloat64;
    default:
      return Kind::kInt;
  }
}

bool is_comparison(const std::string& op) {
  return op == "<" || op == "<=" || op == ">" || op == ">=" || op == "==" || op == "!=";
}

Kind kind_of(const ExprNode& n, Kind bands) {
  switch (n.kind) {
    case NodeKind::kNumber:
      return n.integer_literal ? Kind::kInt : Kind::kWeakFloat;
    case NodeKind::kBand:
      return bands;
    case NodeKind::kUnary: {
      const Kind k = kind_of(*n.args[0], bands);
      return (n.op == "~" && k == Kind::kBool) ? Kind::kBool : std::max(k, Kind::kInt);
    }
    case NodeKind::kBinary: {
      const Kind a = kind_of(*n.args[0], bands), b = kind_of(*n.args[1], bands);
      if (is_comparison(n.op)) return Kind::kBool;
      if (n.op == "&" || n.op == "|") return (a == Kind::kBool && b == Kind::kBool) ? Kind::kBool : Kind::kInt;
      const Kind k = std::max(promote(a, b), Kind::kInt);
      return n.op == "/" ? float_of(k) : k;
    }
    case NodeKind::kCall: {
      if (n.op == "where") return promote(kind_of(*n.args[1], bands), kind_of(*n.args[2], bands));
      const Kind a = kind_of(*n.args[0], bands);
      if (n.op == "minimum" || n.op == "maximum") return promote(a, kind_of(*n.args[1], bands));
      if (n.op == "arctan2") return float_of(promote(a, kind_of(*n.args[1], bands)));
      if (n.op == "abs") return std::max(a, Kind::kInt);
      return float_of(a);
    }
  }
  return Kind::kFloat64;
}

DataType data_type_of(Kind k) {
  switch (k) {
    case Kind::kBool:
      return DataType::kUInt8;
    case Kind::kInt:
      return DataType::kInt32;
    case Kind::kFloat32:
    case Kind::kWeakFloat:
      return DataType::kFloat32;
    default:
      return DataType::kFloat64;
  }
}

// ---------------------------------------------------------------------------- evaluation

// One value per pixel, or one for all (numbers).
struct Column {
  bool scalar = false;
  double s = 0;
  std::vector<double> v;
  double at(size_t i) const { return scalar ? s : v[i]; }
};

// int32 arithmetic wraps as numexpr's does.
double wrap_int32(double x) {
  if (x >= -2147483648.0 && x <= 2147483647.0) return x;
  if (!std::isfinite(x)) return 0;
  return static_cast<double>(static_cast<int32_t>(static_cast<uint32_t>(static_cast<int64_t>(x))));
}

double floor_mod(double a, double b) {
  if (b == 0) return std::numeric_limits<double>::quiet_NaN();
  const double r = std::fmod(a, b);
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}

double binary(const std::string& op, double a, double b, bool ints) {
  if (op == "+") return a + b;
  if (op == "-") return a - b;
  if (op == "*") return a * b;
  if (op == "/") return a / b;
  if (op == "//") return (ints && b == 0) ? 0 : std::floor(a / b);
  if (op == "%") return (ints && b == 0) ? 0 : floor_mod(a, b);
  if (op == "**") return ints ? std::trunc(std::pow(a, b)) : std::pow(a, b);
  if (op == "<") return a < b;
  if (op == "<=") return a <= b;
  if (op == ">") return a > b;
  if (op == ">=") return a >= b;
  if (op == "==") return a == b;
  if (op == "!=") return a != b;
  const int64_t x = static_cast<int64_t>(a), y = static_cast<int64_t>(b);
  return op == "&" ? static_cast<double>(x & y) : static_cast<double>(x | y);
}

double unary_fn(const std::string& fn, double x) {
  static const std::map<std::string, double (*)(double), std::less<>> table{
      {"sqrt", [](double v) { return std::sqrt(v); }},     {"abs", [](double v) { return std::abs(v); }},
      {"exp", [](double v) { return std::exp(v); }},       {"expm1", [](double v) { return std::expm1(v); }},
      {"log", [](double v) { return std::log(v); }},       {"log10", [](double v) { return std::log10(v); }},
      {"log1p", [](double v) { return std::log1p(v); }},   {"sin", [](double v) { return std::sin(v); }},
      {"cos", [](double v) { return std::cos(v); }},       {"tan", [](double v) { return std::tan(v); }},
      {"arcsin", [](double v) { return std::asin(v); }},   {"arccos", [](double v) { return std::acos(v); }},
      {"arctan", [](double v) { return std::atan(v); }},   {"sinh", [](double v) { return std::sinh(v); }},
      {"cosh", [](double v) { return std::cosh(v); }},     {"tanh", [](double v) { return std::tanh(v); }},
      {"arcsinh", [](double v) { return std::asinh(v); }}, {"arccosh", [](double v) { return std::acosh(v); }},
      {"arctanh", [](double v) { return std::atanh(v); }}, {"ceil", [](double v) { return std::ceil(v); }},
      {"floor", [](double v) { return std::floor(v); }},
  };
  return table.find(fn)->second(x);
}

class Evaluator {
 public:
  Evaluator(const Image& input, const std::vector<int>& input_bands, Kind bands_kind)
      : input_(input),
        bands_(input_bands),
        bands_kind_(bands_kind),
        n_(static_cast<size_t>(input.width) * input.height) {}

  Column eval(const ExprNode& node) const {
    switch (node.kind) {
      case NodeKind::kNumber:
        return Column{true, node.number, {}};
      case NodeKind::kBand:
        return band(node.band);
      case NodeKind::kUnary:
        return unary(node);
      case NodeKind::kBinary:
        return binary_node(node);
      case NodeKind::kCall:
        return call(node);
    }
    return {};
  }

 private:
  Column band(int b) const {
    const size_t i = std::find(bands_.begin(), bands_.end(), b) - bands_.begin();
    return Column{false, 0, input_.bands[i]};
  }

  template <typename F>
  Column map(const std::vector<Column>& in, Kind kind, F f) const {
    const bool all_scalar = std::all_of(in.begin(), in.end(), [](const Column& c) { return c.scalar; });
    Column out{all_scalar, 0, {}};
    const auto finish = [&](double v) {
      if (kind == Kind::kInt) return wrap_int32(v);
      if (kind == Kind::kFloat32) return static_cast<double>(static_cast<float>(v));
      return v;
    };
    if (all_scalar) {
      out.s = finish(f(0));
      return out;
    }
    out.v.resize(n_);
    for (size_t i = 0; i < n_; ++i) out.v[i] = finish(f(i));
    return out;
  }

  Column unary(const ExprNode& n) const {
    const Kind kind = kind_of(n, bands_kind_);
    const Column a = eval(*n.args[0]);
    if (n.op == "~") {
      return map({a}, kind, [&](size_t i) {
        return kind == Kind::kBool ? double(a.at(i) == 0) : double(~static_cast<int64_t>(a.at(i)));
      });
    }
    const double sign = n.op == "-" ? -1 : 1;
    return map({a}, kind, [&](size_t i) { return sign * a.at(i); });
  }

  Column binary_node(const ExprNode& n) const {
    const Kind kind = kind_of(n, bands_kind_);
    const Column a = eval(*n.args[0]), b = eval(*n.args[1]);
    const bool ints = kind == Kind::kInt;
    return map({a, b}, kind, [&](size_t i) { return binary(n.op, a.at(i), b.at(i), ints); });
  }

  Column call(const ExprNode& n) const {
    const Kind kind = kind_of(n, bands_kind_);
    std::vector<Column> args;
    for (const auto& arg : n.args) args.push_back(eval(*arg));
    if (n.op == "where") {
      return map(args, kind, [&](size_t i) { return args[0].at(i) != 0 ? args[1].at(i) : args[2].at(i); });
    }
    if (n.op == "minimum" || n.op == "maximum") {
      const bool is_min = n.op == "minimum";
      return map(args, kind, [&](size_t i) {
        const double x = args[0].at(i), y = args[1].at(i);
        if (std::isnan(x) || std::isnan(y)) return std::numeric_limits<double>::quiet_NaN();
        return is_min ? std::min(x, y) : std::max(x, y);
      });
    }
    if (n.op == "arctan2") return map(args, kind, [&](size_t i) { return std::atan2(args[0].at(i), args[1].at(i)); });
    return map(args, kind, [&](size_t i) { return unary_fn(n.op, args[0].at(i)); });
  }

  const Image& input_;
  const std::vector<int>& bands_;
  Kind bands_kind_;
  size_t n_;
};

// numpy.nan_to_num for the output type.
double nan_to_num(double v, DataType type) {
  if (std::isnan(v)) return 0;
  if (std::isinf(v)) {
    const double big =
        type == DataType::kFloat32 ? std::numeric_limits<float>::max() : std::numeric_limits<double>::max();
    return v > 0 ? big : -big;
  }
  return v;
}

void collect_bands(const ExprNode& n, std::set<int>& out) {
  if (n.kind == NodeKind::kBand) out.insert(n.band);
  for (const auto& arg : n.args) collect_bands(*arg, out);
}

}  // namespace

Result<Expression> Expression::parse(std::string_view text) {
  Expression expr;
  std::set<int> bands;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(';', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view block = text.substr(start, end - start);
    if (block.find_first_not_of(" \t\r\n") != std::string_view::npos) {
      auto tokens = tokenize(block, start);
      if (!tokens) return tokens.error();
      auto root = Parser(std::move(*tokens)).parse_block();
      if (!root) return root.error();
      collect_bands(**root, bands);
      expr.roots_.push_back(*root);
      std::string lower(block);
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      expr.blocks_.push_back(lower);
    }
    start = end + 1;
  }
  if (expr.roots_.empty()) return Error::bad_request("empty expression");
  if (bands.empty()) {
    return Error::bad_request("Could not find any valid bands in '" + std::string(text) + "' expression.");
  }
  expr.bands_.assign(bands.begin(), bands.end());
  return expr;
}

std::vector<std::string> Expression::describe(const std::vector<std::string>& descriptions) const {
  static const std::regex kBand("\\bb([0-9]+)\\b");
  std::vector<std::string> out;
  for (const std::string& block : blocks_) {
    std::string result;
    auto begin = std::sregex_iterator(block.begin(), block.end(), kBand);
    size_t last = 0;
    for (auto it = begin; it != std::sregex_iterator(); ++it) {
      result += block.substr(last, it->position() - last);
      const size_t b = std::stoul((*it)[1]);
      const bool known = b >= 1 && b <= descriptions.size() && !descriptions[b - 1].empty();
      result += known ? descriptions[b - 1] : it->str();
      last = it->position() + it->length();
    }
    out.push_back(result + block.substr(last));
  }
  return out;
}

Result<Image> Expression::apply(const Image& input, const std::vector<int>& input_bands) const {
  for (int b : bands_) {
    if (std::find(input_bands.begin(), input_bands.end(), b) == input_bands.end()) {
      return Error::bad_request("band b" + std::to_string(b) + " is not available");
    }
  }
  const Kind bands_kind = band_kind(input.type);
  Kind out_kind = Kind::kBool;
  for (const auto& root : roots_) out_kind = promote(out_kind, kind_of(*root, bands_kind));
  if (out_kind == Kind::kWeakFloat) out_kind = Kind::kFloat64;  // numbers only: numpy's float64
  Image out;
  out.width = input.width, out.height = input.height, out.type = data_type_of(out_kind);
  out.valid = input.valid;
  const size_t n = static_cast<size_t>(input.width) * input.height;
  const Evaluator evaluator(input, input_bands, bands_kind);
  for (const auto& root : roots_) {
    const Column c = evaluator.eval(*root);
    std::vector<double> band(n);
    for (size_t i = 0; i < n; ++i) {
      double v = nan_to_num(c.at(i), out.type);
      if (out.type == DataType::kFloat32) v = static_cast<double>(static_cast<float>(v));
      band[i] = v;
    }
    out.bands.push_back(std::move(band));
  }
  return out;
}

}  // namespace scigate::raster
