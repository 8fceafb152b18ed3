// libFuzzer target: the CSV reader of the labor bureau imports never crashes or loops
// on any bytes (a file saved by any spreadsheet, or by none).
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "tools/pathwayctl/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  pathway::pathwayctl::CsvReader reader(&in);
  pathway::pathwayctl::CsvRecord record;
  size_t records = 0;
  while (reader.Next(&record)) {
    // Every record consumes input: more records than bytes would mean a loop.
    if (++records > size + 1) __builtin_trap();
  }
  return 0;
}
