#include "tools/pathwayctl/call_command.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/client/bearer_context.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"
// Linked whole so every Pathway descriptor is in the generated pool.
#include "pathway/common/v1/operations.pb.h"
#include "tools/pathwayctl/command_common.h"
#include "pathway/detox/v1/detox.pb.h"
#include "pathway/isolation/v1/isolation.pb.h"
#include "pathway/placement/v1/placement.pb.h"
#include "pathway/registry/v1/registry.pb.h"
#include "pathway/rehab/v1/rehab.pb.h"

namespace pathway {
namespace pathwayctl {
namespace {

namespace pb = google::protobuf;

constexpr absl::string_view kUsage =
    "usage: pathwayctl call --addr HOST:PORT [--token T] [--idempotency-key K]\n"
    "                       [--timeout 30s] SERVICE/METHOD [JSON | -]\n"
    "\n"
    "  SERVICE/METHOD   e.g. pathway.registry.v1.Registry/GetCase ('pathwayctl methods')\n"
    "  JSON             the request; '-' reads it from standard input; default {}\n"
    "  --token          bearer token (default: $PATHWAY_TOKEN)\n"
    "  --idempotency-key  retry a write safely: the server applies it once\n"
    "\n"
    "Prints the response as JSON (one object per line for a stream). Exit 0 on OK;\n"
    "1 with the gRPC code and message on stderr otherwise; 2 for a usage error.\n";

const char* kServices[] = {
    "pathway.registry.v1.Registry", "pathway.detox.v1.CommunityDetox",
    "pathway.isolation.v1.CompulsoryIsolation", "pathway.rehab.v1.CommunityRehab",
    "pathway.placement.v1.Placement", "pathway.common.v1.Operations"};

// Keeps the generated files linked (their descriptors register on load).
void ForceLink() {
  (void)registry::v1::Case::descriptor();
  (void)common::v1::ProgramStatus::descriptor();
}

std::string ByteBufferToString(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  (void)buffer.Dump(&slices);
  std::string out;
  for (const grpc::Slice& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

bool PrintJson(const pb::Message& m, std::ostream& out, std::ostream& err) {
  std::string json;
  pb::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  auto s = pb::util::MessageToJsonString(m, &json, o);
  if (!s.ok()) {
    err << "pathwayctl call: cannot print the response: " << s.ToString() << "\n";
    return false;
  }
  out << json << "\n";
  return true;
}

}  // namespace

absl::string_view CallUsage() { return kUsage; }

int RunMethodsCommand(std::ostream& out) {
  ForceLink();
  for (const char* name : kServices) {
    const pb::ServiceDescriptor* s = pb::DescriptorPool::generated_pool()->FindServiceByName(name);
    if (s == nullptr) continue;
    for (int i = 0; i < s->method_count(); ++i) {
      const pb::MethodDescriptor* m = s->method(i);
      out << s->full_name() << "/" << m->name()
          << (m->client_streaming() ? "  (client stream)" : "")
          << (m->server_streaming() ? "  (server stream)" : "") << "\n";
    }
  }
  return 0;
}

int RunCallCommand(absl::Span<const std::string> args, absl::string_view token_from_env,
                   const TlsOptions& tls, std::istream& in, std::ostream& out, std::ostream& err) {
  ForceLink();
  std::string addr, token(token_from_env), key, method_name, json = "{}";
  absl::Duration timeout = absl::Seconds(30);
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      out << kUsage;
      return 0;
    }
    if (a.rfind("--", 0) == 0) {
      if (i + 1 >= args.size()) {
        err << "pathwayctl call: " << a << " needs a value\n" << kUsage;
        return 2;
      }
      const std::string& v = args[++i];
      if (a == "--addr") addr = v;
      else if (a == "--token") token = v;
      else if (a == "--idempotency-key") key = v;
      else if (a == "--timeout") {
        if (!absl::ParseDuration(v, &timeout) || timeout <= absl::ZeroDuration()) {
          err << "pathwayctl call: --timeout must be a duration like 30s\n";
          return 2;
        }
      } else {
        err << "pathwayctl call: unknown flag " << a << "\n" << kUsage;
        return 2;
      }
      continue;
    }
    positional.push_back(a);
  }
  if (addr.empty() || positional.empty() || positional.size() > 2) {
    err << kUsage;
    return 2;
  }
  method_name = positional[0];
  if (positional.size() == 2) {
    if (positional[1] == "-") {
      std::stringstream ss;
      ss << in.rdbuf();
      json = ss.str();
    } else {
      json = positional[1];
    }
  }
  const pb::MethodDescriptor* method = pb::DescriptorPool::generated_pool()->FindMethodByName(
      absl::StrReplaceAll(method_name, {{"/", "."}}));
  if (method == nullptr) {
    err << "pathwayctl call: unknown method " << method_name << " (see 'pathwayctl methods')\n";
    return 2;
  }
  if (method->client_streaming()) {
    err << "pathwayctl call: " << method_name
        << " takes a stream; use 'pathwayctl import' for bulk uploads\n";
    return 2;
  }
  const pb::Message* req_proto =
      pb::MessageFactory::generated_factory()->GetPrototype(method->input_type());
  const pb::Message* resp_proto =
      pb::MessageFactory::generated_factory()->GetPrototype(method->output_type());
  std::unique_ptr<pb::Message> request(req_proto->New());
  auto parsed = pb::util::JsonStringToMessage(json, request.get());
  if (!parsed.ok()) {
    err << "pathwayctl call: the request is not valid JSON for "
        << method->input_type()->full_name() << ": " << parsed.ToString() << "\n";
    return 2;
  }

  std::shared_ptr<grpc::Channel> channel = OpenChannel(addr, tls, err);
  if (channel == nullptr) return 2;
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  PrepareBearerContext(&ctx, token, timeout);
  if (!key.empty()) ctx.AddMetadata("idempotency-key", key);
  std::string path = absl::StrCat("/", method->service()->full_name(), "/", method->name());
  grpc::Slice slice(request->SerializeAsString());
  grpc::ByteBuffer request_buffer(&slice, 1);

  grpc::Status status;
  if (!method->server_streaming()) {
    grpc::ByteBuffer response_buffer;
    absl::Notification done;
    stub.UnaryCall(&ctx, path, grpc::StubOptions(), &request_buffer, &response_buffer,
                   [&](grpc::Status s) {
                     status = std::move(s);
                     done.Notify();
                   });
    done.WaitForNotification();
    if (status.ok()) {
      std::unique_ptr<pb::Message> response(resp_proto->New());
      if (!response->ParseFromString(ByteBufferToString(response_buffer))) {
        err << "pathwayctl call: unreadable response\n";
        return 1;
      }
      if (!PrintJson(*response, out, err)) return 1;
    }
  } else {
    grpc::CompletionQueue cq;
    void* tag;
    bool ok;
    auto call = stub.PrepareCall(&ctx, path, &cq);
    call->StartCall(reinterpret_cast<void*>(1));
    cq.Next(&tag, &ok);
    call->Write(request_buffer, reinterpret_cast<void*>(2));
    cq.Next(&tag, &ok);
    call->WritesDone(reinterpret_cast<void*>(3));
    cq.Next(&tag, &ok);
    while (true) {
      grpc::ByteBuffer item;
      call->Read(&item, reinterpret_cast<void*>(4));
      cq.Next(&tag, &ok);
      if (!ok) break;
      std::unique_ptr<pb::Message> response(resp_proto->New());
      if (!response->ParseFromString(ByteBufferToString(item)) || !PrintJson(*response, out, err)) {
        ctx.TryCancel();
        break;
      }
    }
    call->Finish(&status, reinterpret_cast<void*>(5));
    cq.Next(&tag, &ok);
  }
  if (!status.ok()) {
    static const char* kCodes[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT",
                                   "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
                                   "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
                                   "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
                                   "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
                                   "UNAUTHENTICATED"};
    int code = static_cast<int>(status.error_code());
    err << (code >= 0 && code <= 16 ? kCodes[code] : "UNKNOWN") << ": " << status.error_message()
        << "\n";
    return 1;
  }
  return 0;
}

}  // namespace pathwayctl
}  // namespace pathway
