// The registry's database for a logic test, on the engine the run asks for (a SQLite
// file in a temporary directory, or a private PostgreSQL with
// PATHWAY_TEST_DATABASE=postgres), migrated, with a PII cipher and the registry's logic
// over it. A test fixture derives from it and extends SetUp:
//
//   class WorklistTest : public RegistryStoreTest {};
//   class VisitsTest : public RegistryStoreTest {
//     void SetUp() override {
//       RegistryStoreTest::SetUp();
//       visits_ = std::make_unique<VisitLogic>(logic_.get(), cipher_.get());
//     }
//   };
#ifndef PATHWAY_SERVICES_REGISTRY_TESTING_REGISTRY_STORE_H_
#define PATHWAY_SERVICES_REGISTRY_TESTING_REGISTRY_STORE_H_

#include <memory>
#include <string>
#include <utility>

#include "common/crypto/pii_cipher.h"
#include "common/store/open_store.h"
#include "common/store/store.h"
#include "common/store/testing_store.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"
#include "services/registry/registry_logic.h"

namespace pathway {
namespace registry {

class RegistryStoreTest : public ::testing::Test {
 protected:
  // A synthetic key of the tests only.
  static constexpr char kTestPiiKey[] = "registry-store-test-pii-key-0123456789abcdef";

  void SetUp() override {
    OpenStoreOptions o;
    o.default_sqlite_path = dir_.path() + "/registry.db";
    auto store = OpenStore(database_, RegistryLogic::Migrations(), nullptr, o);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    cipher_ = *PiiCipher::Create(kTestPiiKey);
    logic_ = std::make_unique<RegistryLogic>(cipher_.get(), RegistryConfig{});
  }

  ScopedTempDir dir_;
  const std::string database_ = TestDatabaseUriOrDie("registry");
  std::unique_ptr<Store> store_;
  std::unique_ptr<PiiCipher> cipher_;
  std::unique_ptr<RegistryLogic> logic_;
};

}  // namespace registry
}  // namespace pathway

#endif  // PATHWAY_SERVICES_REGISTRY_TESTING_REGISTRY_STORE_H_
