#pragma once

namespace sas::sqlite_agenda {
// The sqlite-agenda schema (schema.sql), applied with sqlite3_exec.
const char* schema_sql();
}  // namespace sas::sqlite_agenda
