;; Imports a function no host provides: switchyard-wasm refuses it at load.
(module
  (import "env" "mystery" (func $mystery))
  (memory (export "memory") 1)
  (func (export "_start") (call $mystery)))
