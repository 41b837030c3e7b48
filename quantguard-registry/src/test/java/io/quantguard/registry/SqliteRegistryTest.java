package io.quantguard.registry;

/** The registry contract on embedded SQLite (always). */
class SqliteRegistryTest extends RegistryContract {
  @Override
  String newLocation() {
    return Stores.newSqlite(tmp);
  }
}
