#include "guest.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include "switchyard/switchyard.h"

namespace switchyard_wasm {

namespace {

constexpr uint32_t kPage = 65536;
constexpr uint32_t kDefaultShadowStack = 64 * 1024;  // wasm-ld's default -z stack-size
// WASI errno values used here.
constexpr uint32_t W_FAULT = 21, W_INVAL = 28, W_NOMEM = 48;

thread_local Guest* current_guest = nullptr;

uint32_t round_up_pages(uint64_t bytes) {
  return uint32_t((bytes + kPage - 1) / kPage);
}

uint64_t wasix_context_create(Guest& g, const uint64_t* a) {
  return g.context_create(uint32_t(a[0]), uint32_t(a[1]));
}
uint64_t wasix_context_switch(Guest& g, const uint64_t* a) {
  return g.context_switch(a[0]);
}
uint64_t wasix_context_destroy(Guest& g, const uint64_t* a) {
  return g.context_destroy(a[0]);
}

}  // namespace

uint32_t GuestMemory::u32(uint64_t offset) const {
  uint32_t v;
  std::memcpy(&v, at(offset), 4);
  return v;
}
uint64_t GuestMemory::u64(uint64_t offset) const {
  uint64_t v;
  std::memcpy(&v, at(offset), 8);
  return v;
}
void GuestMemory::put_u16(uint64_t offset, uint16_t value) const {
  std::memcpy(at(offset), &value, 2);
}
void GuestMemory::put_u32(uint64_t offset, uint32_t value) const {
  std::memcpy(at(offset), &value, 4);
}
void GuestMemory::put_u64(uint64_t offset, uint64_t value) const {
  std::memcpy(at(offset), &value, 8);
}

/// A WASIX context of this guest. Everything the host keeps for it lives
/// here, on the heap, never on the context's own stack: destroying the
/// context drops that stack without unwinding it.
struct Guest::Context {
  Guest* guest = nullptr;
  sy_context_id id = 0;
  uint32_t entry = 0;
  Region region;          // its shadow stack in linear memory
  uint32_t saved_sp = 0;  // __stack_pointer while suspended
  bool started = false;   // has run its entry (its stack holds wasm frames)
  bool done = false;      // its wasm frames are gone; it waits in the trampoline
  bool cancel = false;    // being destroyed: unwind, then go back to return_to
  Context* return_to = nullptr;
  std::unique_ptr<EngineContext> engine;
};

Guest::Guest(GuestOptions options) : options_(std::move(options)) {}

Guest::~Guest() = default;

Guest* Guest::current() {
  return current_guest;
}

const std::vector<HostFunction>& Guest::host_functions() {
  static const std::vector<HostFunction> table = [] {
    std::vector<HostFunction> all = Wasi::functions();
    // wasmer's WASIX context calls: create(u64* new_context_ptr, u32
    // entrypoint table index) -> errno; switch(u64 id) -> errno;
    // destroy(u64 id) -> errno.
    all.push_back({"wasix_32v1", "context_create", "ii", "i", wasix_context_create});
    all.push_back({"wasix_32v1", "context_switch", "I", "i", wasix_context_switch});
    all.push_back({"wasix_32v1", "context_destroy", "I", "i", wasix_context_destroy});
    return all;
  }();
  return table;
}

bool Guest::load(std::string& error) {
  const std::string& path = options_.module_path;
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    error = path + ": cannot read: " + std::strerror(errno);
    return false;
  }
  bytes_.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  std::string parse_error;
  if (!parse_module(bytes_, info_, parse_error)) {
    error = path + ": " + parse_error;
    return false;
  }
  // Imports: every function import must be one of ours with the same
  // signature, else the module does not load (a message names them all).
  std::string unknown;
  for (const FunctionImport& wanted : info_.function_imports) {
    const HostFunction* found = nullptr;
    for (const HostFunction& f : host_functions()) {
      if (wanted.module == f.module && wanted.name == f.name) found = &f;
    }
    if (found == nullptr) {
      unknown += " " + wanted.module + "." + wanted.name;
    } else if (!(wanted.signature == Signature{found->params, found->results})) {
      unknown += " " + wanted.module + "." + wanted.name + " (signature (" + wanted.signature.params + ")->(" +
                 wanted.signature.results + "), the host has (" + found->params + ")->(" + found->results + "))";
    }
    imports_.push_back(found);
  }
  for (const std::string& other : info_.other_imports) unknown += " " + other;
  if (!unknown.empty()) {
    error = path + ": imports that switchyard-wasm does not provide:" + unknown;
    return false;
  }
  if (!info_.exports_name("_start")) {
    error = path + ": no _start export (not a WASI command module)";
    return false;
  }
  if (!info_.has_memory || !info_.exports_name("memory")) {
    error = path + ": no exported memory";
    return false;
  }
  if (options_.engine == "interp") {
    engine_holder_ = make_interp_engine(*this);
  } else {
    engine_holder_ = make_aot_engine(*this);
  }
  engine_ = engine_holder_.get();
  if (!engine_->instantiate(path, bytes_, info_, error)) return false;
  std::vector<uint8_t>().swap(bytes_);
  if (!wasi_.init(options_.args, options_.env, options_.dirs, error)) return false;
  region_size_ =
      round_up_pages(info_.linked_stack_size() != 0 ? info_.linked_stack_size() : kDefaultShadowStack) * kPage;
  stack_limits_ = info_.exports_name("__set_stack_limits");
  return true;
}

bool Guest::must_unwind() const {
  return terminated_ || (active_ != nullptr && active_->cancel);
}

void Guest::name_context(Context& context, char* out, size_t size) const {
  if (&context == main_) {
    std::snprintf(out, size, "context 0 (main)");
  } else {
    std::snprintf(out, size, "context %llu", static_cast<unsigned long long>(context.id));
  }
}

void Guest::trapped(const std::string& name) {
  if (terminated_) return;
  char who[64];
  name_context(*active_, who, sizeof who);
  terminate(134, std::string("switchyard-wasm: ") + options_.module_path + ": trap in " + who + ": " + name +
                     "; exiting with code 134");
}

void Guest::terminate(int status, const std::string& message) {
  if (terminated_) return;
  terminated_ = true;
  status_ = status;
  if (!message.empty()) std::fprintf(stderr, "%s\n", message.c_str());
}

void Guest::before_blocking() {
  if (active_ != nullptr && active_->engine) engine_->suspend(*active_->engine);
}

void Guest::after_blocking() {
  current_guest = this;
  if (active_ != nullptr && active_->engine) engine_->resume(*active_->engine);
}

int Guest::run() {
  current_guest = this;
  engine_->start_runtime();
  auto main = std::make_unique<Context>();
  main->guest = this;
  main->started = true;
  main->region.top = info_.initial_stack_pointer;
  // Main keeps the stack the linker gave it; when its size is unknown, its
  // lower limit for stack checks is 0.
  const uint32_t main_size = info_.linked_stack_size();
  main->region.base =
      main_size != 0 ? info_.initial_stack_pointer - std::min(info_.initial_stack_pointer, main_size) : 0;
  main->engine = engine_->new_context(true);
  main_ = main.get();
  active_ = main_;
  contexts_[0] = std::move(main);
  if (stack_limits_) engine_->set_stack_limits(main_->region.top, main_->region.base);
  {
    const RunOutcome outcome = engine_->run_start(*main_->engine);
    if (outcome.kind == RunOutcome::trapped) trapped(outcome.trap);
  }
  main_->done = true;
  // The guest is over (returned, exited or trapped): discard every context
  // left, newest first.
  while (contexts_.size() > 1) discard(*std::prev(contexts_.end())->second);
  contexts_.clear();
  main_ = active_ = nullptr;
  current_guest = nullptr;
  return terminated_ ? status_ : 0;
}

// Regions come from memory.grow, above everything the guest has. Growth
// is geometric (a quarter of the memory at a time, cut into regions for the
// free list), so engines that copy the memory on growth copy it a few times,
// not once per context. When the 4 GiB of wasm32 run out, later contexts get
// smaller regions (halving, down to 64 KiB) rather than ENOMEM: a guest
// linked with a large stack may still make thousands of contexts.
bool Guest::allocate_region(Region& region) {
  for (size_t i = free_regions_.size(); i-- > 0;) {
    if (free_regions_[i].top - free_regions_[i].base == region_size_ || i == 0) {
      region = free_regions_[i];
      free_regions_.erase(free_regions_.begin() + long(i));
      return true;
    }
  }
  const uint64_t size = engine_->memory_size();
  const uint32_t region_pages = region_size_ / kPage;
  uint32_t pages = std::max<uint32_t>(region_pages, uint32_t(size / 4 / kPage) / region_pages * region_pages);
  for (;;) {
    const int64_t old_pages = engine_->memory_grow(pages);
    if (old_pages >= 0) {
      const uint32_t base = uint32_t(old_pages) * kPage;
      for (uint32_t k = pages / region_pages; k-- > 1;) {
        free_regions_.push_back({base + k * region_size_, base + (k + 1) * region_size_});
      }
      region = {base, base + region_size_};
      return true;
    }
    if (pages > region_pages) {
      pages = region_pages;
    } else if (region_size_ > kPage) {
      region_size_ = std::max<uint32_t>(kPage, region_size_ / 2 / kPage * kPage);
      return allocate_region(region);
    } else {
      return false;
    }
  }
}

void Guest::apply_stack(Context& context) {
  if (stack_limits_) engine_->set_stack_limits(context.region.top, context.region.base);
}

uint32_t Guest::context_create(uint32_t id_pointer, uint32_t entrypoint) {
  if (!memory_.valid(id_pointer, 8)) return W_FAULT;
  if (!engine_->entrypoint_ok(entrypoint)) return W_INVAL;
  auto context = std::make_unique<Context>();
  context->guest = this;
  context->entry = entrypoint;
  // No __stack_pointer (not a wasm-ld module): no shadow stack to give.
  if (info_.stack_pointer_known && !allocate_region(context->region)) return W_NOMEM;
  if (sy_create(trampoline, context.get(), &context->id) != SY_OK) {
    if (info_.stack_pointer_known) free_regions_.push_back(context->region);
    return W_NOMEM;
  }
  memory_.put_u64(id_pointer, context->id);
  contexts_[context->id] = std::move(context);
  return 0;
}

__attribute__((always_inline)) inline uint32_t Guest::context_switch(uint64_t target) {
  if (target == active_->id) return 0;
  const auto it = contexts_.find(target);
  if (it == contexts_.end() || it->second->done || it->second->cancel) return W_INVAL;
  switch_into(*it->second);
  return 0;
}

int Guest::switch_for_engine(void* guest, uint64_t target, uint32_t* result) {
  Guest& g = *static_cast<Guest*>(guest);
  *result = g.context_switch(target);
  return g.must_unwind() ? 1 : 0;
}

uint32_t Guest::context_destroy(uint64_t target) {
  if (target == 0 || target == active_->id) return W_INVAL;
  const auto it = contexts_.find(target);
  if (it == contexts_.end()) return 0;
  discard(*it->second);
  return 0;
}

// Leaves the running context for `target`; returns when some context
// switches back, with the running context's shadow stack and engine state
// restored. Holds no object with a destructor across the switch: the stack
// it runs on may be dropped while suspended here.
__attribute__((always_inline)) inline void Guest::switch_into(Context& target) {
  Context& self = *active_;
  self.saved_sp = engine_->stack_pointer();
  engine_->suspend(*self.engine);
  const sy_status status = sy_switch_to(target.id);
  current_guest = this;
  active_ = &self;
  engine_->resume(*self.engine);
  engine_->set_stack_pointer(self.saved_sp);
  apply_stack(self);
  if (status != SY_OK) {
    char message[1200];
    std::snprintf(message, sizeof message, "switchyard-wasm: switch to context %llu failed: %s",
                  static_cast<unsigned long long>(target.id), sy_last_error());
    terminate(134, message);
  }
}

// Removes `context`: if its stack holds engine frames that own memory
// (interp), it first unwinds them as a trap inside it (no guest code runs);
// then switchyard drops the stack, and the region goes back to the pool.
void Guest::discard(Context& context) {
  if (context.started && !context.done && engine_->destroy_needs_unwind()) {
    context.cancel = true;
    context.return_to = active_;
    switch_into(context);
  }
  if (sy_destroy(context.id) != SY_OK) {
    std::fprintf(stderr, "switchyard-wasm: destroying context %llu failed: %s\n",
                 static_cast<unsigned long long>(context.id), sy_last_error());
    std::abort();
  }
  if (info_.stack_pointer_known) free_regions_.push_back(context.region);
  contexts_.erase(context.id);
}

// The body of every context: runs its entrypoint on a fresh shadow stack.
// When the entry's wasm frames are gone (returned, trapped, unwound) it
// hands over for good: to the destroyer when canceled, else to main, which
// then ends the guest. All objects with destructors live in finish_entry,
// so nothing is left on this stack to leak when it is dropped.
void Guest::trampoline(void* argument) {
  Context& context = *static_cast<Context*>(argument);
  const sy_context_id next = context.guest->finish_entry(context);
  for (;;) {
    if (sy_switch_to(next) != SY_OK) {
      std::fprintf(stderr, "switchyard-wasm: context %llu cannot hand over to %llu: %s\n",
                   static_cast<unsigned long long>(context.id), static_cast<unsigned long long>(next), sy_last_error());
      std::abort();
    }
  }
}

uint64_t Guest::finish_entry(Context& context) {
  current_guest = this;
  active_ = &context;
  context.started = true;
  context.engine = engine_->new_context(false);
  if (info_.stack_pointer_known) engine_->set_stack_pointer(context.region.top);
  apply_stack(context);
  const RunOutcome outcome = engine_->run_entry(*context.engine, context.entry);
  context.done = true;
  context.engine.reset();
  if (!context.cancel) {
    if (outcome.kind == RunOutcome::returned) {
      char message[512];
      std::snprintf(message, sizeof message,
                    "switchyard-wasm: %s: context %llu returned from its entrypoint (entrypoints must not "
                    "return); exiting with code 129",
                    options_.module_path.c_str(), static_cast<unsigned long long>(context.id));
      terminate(129, message);
    } else if (outcome.kind == RunOutcome::trapped) {
      trapped(outcome.trap);
    }
  }
  return context.cancel ? context.return_to->id : 0;
}

std::string canonical_trap(const std::string& message) {
  struct Name {
    const char* contains;
    const char* canonical;
  };
  static const Name names[] = {
      {"unreachable", "unreachable executed"},
      {"divide by zero", "integer divide by zero"},
      {"integer overflow", "integer overflow"},
      {"invalid conversion", "invalid conversion to integer"},
      {"out of bounds", "out of bounds memory access"},
      {"call stack exhausted", "call stack exhausted"},
      {"exhausted", "call stack exhausted"},
      {"indirect call", "invalid indirect call"},
      {"table", "invalid indirect call"},
      {"uninitialized", "invalid indirect call"},
  };
  for (const Name& n : names) {
    if (message.find(n.contains) != std::string::npos) return n.canonical;
  }
  return message;
}

}  // namespace switchyard_wasm
