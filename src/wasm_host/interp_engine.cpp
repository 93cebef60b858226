// --engine interp: the wabt 1.0.32 interpreter as a thin adapter. One
// wabt::interp::Thread (value and call stacks) per context, owned by the
// host; a context's native stack holds only the frames of Thread::Run, which
// a host function (context_switch) leaves in the middle to switch stacks.
//
// Compiled as C++17: wabt 1.0.32's headers do not compile as C++20 with
// GCC 12 (FreeList<T>'s destructor).
#include <memory>
#include <string>

#include "engine.hpp"
#include "guest.hpp"
#include "wabt/binary-reader.h"
#include "wabt/error-formatter.h"
#include "wabt/feature.h"
#include "wabt/interp/binary-reader-interp.h"
#include "wabt/interp/interp.h"

namespace switchyard_wasm {
namespace {

namespace wi = wabt::interp;

// The message of the trap a host function returns to end a context's wasm
// frames (termination or destroy); never shown.
constexpr const char* kUnwind = "switchyard-wasm: unwinding";

// wabt 1.0.32 fixes a Thread's call stack at 64 KiB of frames (about 1,600),
// the capacity of Thread::frames_ (PushCall traps when size == capacity),
// and offers no option to change it. Reserving more raises the limit, so
// the depth follows --stack-size as under aot. frames_ is private: it is
// reached through an explicit instantiation, which may name private members
// (a compile error, not undefined behaviour, if wabt ever renames it).
struct ThreadFrames {
  using type = std::vector<wi::Frame> wi::Thread::*;
  friend type member_of(ThreadFrames);
};
template <typename Tag, typename Tag::type Member>
struct PrivateMember {
  friend typename Tag::type member_of(Tag) { return Member; }
};
template struct PrivateMember<ThreadFrames, &wi::Thread::frames_>;

struct InterpContext final : EngineContext {
  InterpContext(wi::Store& store, size_t frames) : thread(store) {
    auto& stack = thread.*member_of(ThreadFrames{});
    if (frames > stack.capacity()) stack.reserve(frames);
  }
  wi::Thread thread;
};

// One wasm frame per this many bytes of --stack-size: the same budget as
// aot's (aot_engine.cpp), though here the frames live on the heap.
constexpr size_t kBytesPerFrame = 160;

class InterpEngine final : public Engine {
 public:
  explicit InterpEngine(Guest& guest) : guest_(guest) {}
  ~InterpEngine() override {
    // Roots first, then the store frees every object.
    helper_.reset();
    start_.reset();
    set_limits_.reset();
    table_.reset();
    stack_pointer_.reset();
    memory_.reset();
    instance_.reset();
  }

  const char* name() const override { return "interp"; }

  bool instantiate(const std::string& path, const std::vector<uint8_t>& bytes, const ModuleInfo& info,
                   std::string& error) override {
    wabt::Errors errors;
    wi::ModuleDesc desc;
    wabt::Features features;
    const wabt::ReadBinaryOptions options(features, nullptr, false, true, false);
    if (wabt::Failed(wi::ReadBinaryInterp(path, bytes.data(), bytes.size(), options, &errors, &desc))) {
      error = path + ": does not load or validate: " + wabt::FormatErrorsToString(errors, wabt::Location::Type::Binary);
      while (!error.empty() && error.back() == '\n') error.pop_back();
      return false;
    }
    wi::Module::Ptr module = wi::Module::New(store_, desc);
    wi::RefVec imports;
    size_t function_index = 0;
    for (const wi::ImportDesc& import : module->desc().imports) {
      // Guest::load has refused any import that is not one of our functions.
      const auto* type = wabt::cast<wi::FuncType>(import.type.type.get());
      const size_t index = function_index++;
      const std::string results = guest_.import(index).results;
      const std::string params = guest_.import(index).params;
      wi::HostFunc::Ptr func =
          wi::HostFunc::New(store_, *type,
                            [this, index, params, results](wi::Thread&, const wi::Values& in, wi::Values& out,
                                                           wi::Trap::Ptr* out_trap) -> wabt::Result {
                              return call_host(index, params, results, in, out, out_trap);
                            });
      imports.push_back(func.ref());
    }
    wi::Trap::Ptr trap;
    instance_ = std::make_unique<wi::Instance::Ptr>(wi::Instance::Instantiate(store_, module.ref(), imports, &trap));
    if (!*instance_) {
      error = path + ": does not instantiate: " + (trap ? trap->message() : std::string("unknown error"));
      return false;
    }
    const wi::Instance& instance = **instance_;
    for (size_t i = 0; i < module->desc().exports.size(); ++i) {
      const std::string& name = module->desc().exports[i].type.name;
      const wi::Ref ref = instance.exports()[i];
      if (name == "_start") start_ = std::make_unique<wi::Func::Ptr>(store_, ref);
      if (name == "__set_stack_limits") set_limits_ = std::make_unique<wi::Func::Ptr>(store_, ref);
      if (name == "memory") memory_ = std::make_unique<wi::Memory::Ptr>(store_, ref);
    }
    if (info.stack_pointer_known) {
      stack_pointer_ = std::make_unique<wi::Global::Ptr>(store_, instance.globals()[0]);
    }
    if (!instance.tables().empty()) table_ = std::make_unique<wi::Table::Ptr>(store_, instance.tables()[0]);
    if (!start_ || !memory_) {
      error = path + ": needs an exported _start and memory";
      return false;
    }
    helper_ = std::make_unique<wi::Thread>(store_);
    return true;
  }

  uint8_t* memory_data() override { return (*memory_)->UnsafeData(); }
  uint64_t memory_size() override { return (*memory_)->ByteSize(); }
  int64_t memory_grow(uint32_t pages) override {
    const uint64_t old = (*memory_)->PageSize();
    if (wabt::Failed((*memory_)->Grow(pages))) return -1;
    return int64_t(old);
  }

  uint32_t stack_pointer() override { return stack_pointer_ ? (*stack_pointer_)->Get().Get<uint32_t>() : 0; }
  void set_stack_pointer(uint32_t value) override {
    if (stack_pointer_) (*stack_pointer_)->UnsafeSet(wi::Value::Make(value));
  }

  void set_stack_limits(uint32_t base, uint32_t limit) override {
    if (!set_limits_) return;
    // On a thread of its own: the context's thread is in the middle of Run.
    wi::Values params{wi::Value::Make(base), wi::Value::Make(limit)}, results;
    wi::Trap::Ptr trap;
    (void)(*set_limits_)->Call(*helper_, params, results, &trap);
  }

  bool entrypoint_ok(uint32_t index) override {
    if (!table_ || index >= (*table_)->size()) return false;
    const wi::Ref ref = (*table_)->UnsafeGet(index);
    if (ref == wi::Ref::Null || !store_.Is<wi::Func>(ref)) return false;
    const wi::FuncType& type = store_.UnsafeGet<wi::Func>(ref)->type();
    return type.params.empty() && type.results.empty();
  }

  std::unique_ptr<EngineContext> new_context(bool) override {
    const size_t stack = guest_.options().stack_size != 0 ? guest_.options().stack_size : 1024 * 1024;
    return std::make_unique<InterpContext>(store_, stack / kBytesPerFrame);
  }

  RunOutcome run_start(EngineContext& context) override { return call(context, **start_); }

  RunOutcome run_entry(EngineContext& context, uint32_t index) override {
    wi::Func::Ptr entry(store_, (*table_)->UnsafeGet(index));
    return call(context, *entry);
  }

  bool destroy_needs_unwind() const override { return true; }

 private:
  RunOutcome call(EngineContext& context, wi::Func& func) {
    wi::Thread& thread = static_cast<InterpContext&>(context).thread;
    wi::Values params, results;
    wi::Trap::Ptr trap;
    const wabt::Result result = func.Call(thread, params, results, &trap);
    RunOutcome outcome;
    if (guest_.must_unwind()) {
      outcome.kind = RunOutcome::unwound;
    } else if (wabt::Failed(result) || trap) {
      // trap set with an Ok result: wabt 1.0.32 lost a "call stack
      // exhausted" of a call_indirect (see call_host).
      outcome.kind = RunOutcome::trapped;
      outcome.trap = canonical_trap(trap ? trap->message() : std::string("unknown trap"));
    }
    return outcome;
  }

  wabt::Result call_host(size_t index, const std::string& params, const std::string& results, const wi::Values& in,
                         wi::Values& out, wi::Trap::Ptr* out_trap) {
    if (*out_trap) {
      // wabt 1.0.32 bug: a call_indirect whose callee did not fit on the call
      // stack sets the trap but returns Ok, so the guest ran on with a broken
      // stack until this host call. Turn it into the trap it was
      // (tests/wasm: wasm.*.indirect_exhaustion).
      return wabt::Result::Error;
    }
    uint64_t args[16] = {};
    for (size_t i = 0; i < params.size() && i < 16; ++i) {
      args[i] = params[i] == 'I' ? in[i].Get<uint64_t>() : in[i].Get<uint32_t>();
    }
    const uint64_t value = guest_.call_import(index, args);
    if (guest_.must_unwind()) {
      *out_trap = wi::Trap::New(store_, kUnwind);
      return wabt::Result::Error;
    }
    if (results == "i") out[0] = wi::Value::Make(uint32_t(value));
    if (results == "I") out[0] = wi::Value::Make(uint64_t(value));
    return wabt::Result::Ok;
  }

  Guest& guest_;
  wi::Store store_;
  std::unique_ptr<wi::Instance::Ptr> instance_;
  std::unique_ptr<wi::Func::Ptr> start_;
  std::unique_ptr<wi::Func::Ptr> set_limits_;
  std::unique_ptr<wi::Memory::Ptr> memory_;
  std::unique_ptr<wi::Global::Ptr> stack_pointer_;
  std::unique_ptr<wi::Table::Ptr> table_;
  std::unique_ptr<wi::Thread> helper_;
};

}  // namespace

std::unique_ptr<Engine> make_interp_engine(Guest& guest) {
  return std::make_unique<InterpEngine>(guest);
}

}  // namespace switchyard_wasm
