-- For the rest of an import's transaction: no JIT (the locate join's cost estimate makes
-- PostgreSQL JIT-compile each batch's statement, which takes longer than it saves at these
-- sizes) and :mem of work_mem (the default 4 MB spills the hash of the cell lookup and the
-- batch sorts to disk).
SELECT set_config('jit', 'off', true), set_config('work_mem', :mem, true)
