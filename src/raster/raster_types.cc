#include "raster/raster_types.h"

namespace scigate::raster {

const char* data_type_name(DataType type) {
  switch (type) {
    case DataType::kUInt8:
      return "uint8";
    case DataType::kInt8:
      return "int8";
    case DataType::kUInt16:
      return "uint16";
    case DataType::kInt16:
      return "int16";
    case DataType::kUInt32:
      return "uint32";
    case DataType::kInt32:
      return "int32";
    case DataType::kFloat32:
      return "float32";
    case DataType::kFloat64:
      return "float64";
  }
  return "uint8";
}

size_t data_type_bytes(DataType type) {
  switch (type) {
    case DataType::kUInt8:
    case DataType::kInt8:
      return 1;
    case DataType::kUInt16:
    case DataType::kInt16:
      return 2;
    case DataType::kUInt32:
    case DataType::kInt32:
    case DataType::kFloat32:
      return 4;
    case DataType::kFloat64:
      return 8;
  }
  return 1;
}

double level_factor_x(const RasterInfo& info, int level) {
  if (level == 0 || level >= static_cast<int>(info.levels.size())) return 1;
  const Level& l = info.levels[level];
  return l.factor > 0 ? l.factor : static_cast<double>(info.width) / l.width;
}

double level_factor_y(const RasterInfo& info, int level) {
  if (level == 0 || level >= static_cast<int>(info.levels.size())) return 1;
  const Level& l = info.levels[level];
  return l.factor > 0 ? l.factor : static_cast<double>(info.height) / l.height;
}

}  // namespace scigate::raster
