// scigate's entry point: only parses the command line (see app/cli.h).
#include <csignal>

#include "app/cli.h"

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill the server
  return scigate::run_cli(argc, argv);
}
