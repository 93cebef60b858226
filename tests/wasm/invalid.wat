;; Does not validate: the function returns an i64 where it declares an i32.
;; (Assembled with wat2wasm --no-check.)
(module
  (memory (export "memory") 1)
  (func (export "_start") (result i32) (i64.const 0)))
