// EnergyMeter against a fake NVML (tests/runtime/fake_nvml.cpp, loaded by path): the energy
// counter, the power-sampling fallback, and the errors for a missing library or a failed init.
#include "runtime/energy_meter.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <thread>

namespace trapetum {
namespace {

constexpr const char* kFakeNvml = TRAPETUM_FAKE_NVML_PATH;

// Holds the fake library open for a test, so its scripted state lives as long as the test.
class FakeNvml {
 public:
  explicit FakeNvml(int mode) {
    handle_ = dlopen(kFakeNvml, RTLD_NOW | RTLD_LOCAL);
    if (!handle_) return;
    set_mode_ = reinterpret_cast<void (*)(int)>(dlsym(handle_, "fake_nvml_set_mode"));
    live_inits_ = reinterpret_cast<int (*)()>(dlsym(handle_, "fake_nvml_live_inits"));
    step_mj_ = reinterpret_cast<unsigned long long (*)()>(dlsym(handle_, "fake_nvml_energy_step_mj"));
    power_mw_ = reinterpret_cast<unsigned int (*)()>(dlsym(handle_, "fake_nvml_power_mw"));
    if (set_mode_) set_mode_(mode);
  }
  ~FakeNvml() {
    if (set_mode_) set_mode_(0);
    if (handle_) dlclose(handle_);
  }
  bool ok() const { return handle_ && set_mode_ && live_inits_ && step_mj_ && power_mw_; }
  int live_inits() const { return live_inits_(); }
  double step_joules() const { return double(step_mj_()) / 1000.0; }
  double watts() const { return double(power_mw_()) / 1000.0; }

 private:
  void* handle_ = nullptr;
  void (*set_mode_)(int) = nullptr;
  int (*live_inits_)() = nullptr;
  unsigned long long (*step_mj_)() = nullptr;
  unsigned int (*power_mw_)() = nullptr;
};

TEST(EnergyMeter, CounterGivesTheDifferenceOfTwoReadings) {
  FakeNvml fake(0);
  ASSERT_TRUE(fake.ok()) << kFakeNvml;
  {
    auto meter = EnergyMeter::open(0, kFakeNvml);
    ASSERT_TRUE(meter.ok()) << meter.error();
    EXPECT_EQ((*meter)->method(), "energy-counter");
    EXPECT_EQ(fake.live_inits(), 1);
    for (int window = 0; window < 2; ++window) {
      (*meter)->start();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      EnergyReading r = (*meter)->stop();
      EXPECT_EQ(r.method, "energy-counter");
      EXPECT_EQ(r.samples, 2);
      EXPECT_DOUBLE_EQ(r.joules, fake.step_joules());
      EXPECT_GT(r.seconds, 0);
      EXPECT_DOUBLE_EQ(r.mean_watts, r.joules / r.seconds);
    }
  }
  EXPECT_EQ(fake.live_inits(), 0) << "the destructor calls nvmlShutdown";
}

TEST(EnergyMeter, PowerSamplingIntegratesAConstantDraw) {
  FakeNvml fake(1);
  ASSERT_TRUE(fake.ok()) << kFakeNvml;
  auto meter = EnergyMeter::open(0, kFakeNvml);
  ASSERT_TRUE(meter.ok()) << meter.error();
  EXPECT_EQ((*meter)->method(), "power-sampling");
  (*meter)->start();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EnergyReading r = (*meter)->stop();
  EXPECT_EQ(r.method, "power-sampling");
  EXPECT_GE(r.samples, 2);
  EXPECT_GE(r.seconds, 0.1);
  // Arithmetic, not timing: whatever the window's length, a constant draw integrates to W * s.
  EXPECT_NEAR(r.joules, fake.watts() * r.seconds, 0.2 * fake.watts() * r.seconds);
  EXPECT_NEAR(r.mean_watts, fake.watts(), 0.2 * fake.watts());
}

TEST(EnergyMeter, StopWithoutStartAndDestroyWhileRunning) {
  FakeNvml fake(1);
  ASSERT_TRUE(fake.ok()) << kFakeNvml;
  {
    auto meter = EnergyMeter::open(0, kFakeNvml);
    ASSERT_TRUE(meter.ok()) << meter.error();
    EnergyReading none = (*meter)->stop();
    EXPECT_EQ(none.samples, 0);
    EXPECT_EQ(none.joules, 0);
    (*meter)->start();
    (*meter)->start();  // a second start ends the first window's thread
  }  // destroyed with the sampler running: joined, then shut down
  EXPECT_EQ(fake.live_inits(), 0);
}

TEST(EnergyMeter, MissingLibraryNamesIt) {
  const std::string path = "/nonexistent/libnvidia-ml-missing.so.1";
  auto meter = EnergyMeter::open(0, path);
  ASSERT_FALSE(meter.ok());
  EXPECT_NE(meter.error().find(path), std::string::npos) << meter.error();
}

TEST(EnergyMeter, InitFailureNamesTheCallAndItsCode) {
  FakeNvml fake(2);
  ASSERT_TRUE(fake.ok()) << kFakeNvml;
  auto meter = EnergyMeter::open(0, kFakeNvml);
  ASSERT_FALSE(meter.ok());
  EXPECT_NE(meter.error().find("nvmlInit_v2 returned 9 (Driver Not Loaded)"), std::string::npos) << meter.error();
  EXPECT_EQ(fake.live_inits(), 0);
}

TEST(EnergyMeter, BadDeviceAndNoMeasurementAreErrors) {
  FakeNvml fake(3);
  ASSERT_TRUE(fake.ok()) << kFakeNvml;
  auto bad_index = EnergyMeter::open(7, kFakeNvml);
  ASSERT_FALSE(bad_index.ok());
  EXPECT_NE(bad_index.error().find("nvmlDeviceGetHandleByIndex_v2(7)"), std::string::npos) << bad_index.error();
  auto nothing = EnergyMeter::open(0, kFakeNvml);
  ASSERT_FALSE(nothing.ok());
  EXPECT_NE(nothing.error().find("nvmlDeviceGetPowerUsage returned 3 (Not Supported)"), std::string::npos)
      << nothing.error();
  EXPECT_EQ(fake.live_inits(), 0) << "a failed open shuts NVML down again";
  EXPECT_FALSE(EnergyMeter::open(-1, kFakeNvml).ok());
}

}  // namespace
}  // namespace trapetum
