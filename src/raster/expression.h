// rio-tiler's band math (`expression=`), parsed by a real parser and evaluated over whole
// images: nothing is ever handed to an interpreter.
//
// Grammar (the subset of Python that numexpr evaluates, with Python's precedence):
//   blocks     := block (';' block)*              one output band per non-empty block
//   block      := comparison
//   comparison := bit_or (('<'|'<='|'>'|'>='|'=='|'!=') bit_or)*     chained as in Python
//   bit_or     := bit_and ('|' bit_and)*          logical or on conditions
//   bit_and    := arith ('&' arith)*              logical and on conditions
//   arith      := term (('+'|'-') term)*
//   term       := factor (('*'|'/'|'//'|'%') factor)*
//   factor     := ('-'|'+'|'~') factor | power
//   power      := primary ('**' factor)?          right-associative, binds tighter than unary minus
//   primary    := number | band | function '(' args ')' | '(' comparison ')'
// Bands are b1..bN (case-insensitive, as rio-tiler lower-cases blocks). Functions are
// numexpr's: where, sqrt, abs, exp, expm1, log, log10, log1p, sin, cos, tan, arcsin,
// arccos, arctan, arctan2, sinh, cosh, tanh, arcsinh, arccosh, arctanh, ceil, floor,
// minimum, maximum.
//
// Results follow numexpr and numpy: integer bands compute in int32 (true division and
// float functions give float64), float32 stays float32, NaN becomes 0 and ±inf the
// type's extremes (numpy.nan_to_num), and a pixel is valid where all its bands are.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "raster/raster_types.h"

namespace scigate::raster {

struct ExprNode;

class Expression {
 public:
  // Failure: kBadRequest naming the 1-based character position and what was expected,
  // e.g. "invalid expression at position 6: expected ')'".
  static Result<Expression> parse(std::string_view text);

  // The distinct bands the expression reads, ascending (what to read from the source).
  const std::vector<int>& bands() const { return bands_; }
  // The blocks, lower-cased, as rio-tiler names the output bands.
  const std::vector<std::string>& blocks() const { return blocks_; }
  // Band descriptions of the outputs: each block with bN replaced by that band's
  // description (`descriptions[n - 1]`, or bN when empty), as rio-tiler does.
  std::vector<std::string> describe(const std::vector<std::string>& descriptions) const;

  // Evaluates on `input`, whose band i holds source band `input_bands[i]`.
  // Failure: kBadRequest when a band the expression needs is not in the input.
  Result<Image> apply(const Image& input, const std::vector<int>& input_bands) const;

 private:
  std::vector<std::shared_ptr<const ExprNode>> roots_;
  std::vector<std::string> blocks_;
  std::vector<int> bands_;
};

}  // namespace scigate::raster
