// Owning pointers for the jansson and rhonabwy objects the JOSE code handles, so
// every early return frees what it took (jwks_verifier.cc, jwt_issuer.cc).
#ifndef PATHWAY_COMMON_AUTH_RHONABWY_PTR_H_
#define PATHWAY_COMMON_AUTH_RHONABWY_PTR_H_

#include <jansson.h>
#include <rhonabwy.h>

#include <cstdlib>
#include <memory>

namespace pathway {

struct JsonUnref {
  void operator()(json_t* j) const { json_decref(j); }
};
using JsonPtr = std::unique_ptr<json_t, JsonUnref>;
struct JwkFree {
  void operator()(jwk_t* k) const { r_jwk_free(k); }
};
using JwkPtr = std::unique_ptr<jwk_t, JwkFree>;
struct JwsFree {
  void operator()(jws_t* j) const { r_jws_free(j); }
};
using JwsPtr = std::unique_ptr<jws_t, JwsFree>;
// Strings jansson returns (json_dumps): its default allocator is malloc.
struct FreeChars {
  void operator()(char* p) const { free(p); }
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_AUTH_RHONABWY_PTR_H_
