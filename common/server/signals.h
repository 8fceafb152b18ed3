// Graceful shutdown on SIGTERM / SIGINT without async-signal-unsafe handlers: main
// blocks the signals before any thread exists (threads inherit the mask), then waits
// for one with sigwait once the server is up.
//
//   int main(int argc, char** argv) {
//     BlockShutdownSignals();            // first line of main
//     ... start the server ...
//     int sig = WaitForShutdownSignal();  // returns SIGTERM or SIGINT
//     server->Shutdown();
//   }
#ifndef PATHWAY_COMMON_SERVER_SIGNALS_H_
#define PATHWAY_COMMON_SERVER_SIGNALS_H_

namespace pathway {

void BlockShutdownSignals();
int WaitForShutdownSignal();

}  // namespace pathway

#endif  // PATHWAY_COMMON_SERVER_SIGNALS_H_
