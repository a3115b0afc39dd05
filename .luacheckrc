-- luacheck configuration for the Redis scripts in src/lua (run by scripts/lint).
-- Redis runs them on Lua 5.1 with its own globals; KEYS and ARGV are filled per call.
std = "lua51"
read_globals = {"KEYS", "ARGV", "redis", "cjson", "cmsgpack", "bit", "struct"}
max_line_length = 120

-- Shared pieces are put before the scripts that use them at build time (cmake/RapyerScripts.cmake):
-- reindex_function.lua defines reindex() for save.lua, remove.lua and reindex.lua.
files["src/lua/reindex_function.lua"] = {ignore = {"211/reindex"}}
for _, name in ipairs({"save", "remove", "reindex"}) do
  files["src/lua/" .. name .. ".lua"] = {read_globals = {"reindex"}}
end
