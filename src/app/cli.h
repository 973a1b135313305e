// The command line: serve, check-config, token, version; --help everywhere.
#pragma once

namespace scigate {

int run_cli(int argc, char** argv);

}  // namespace scigate
