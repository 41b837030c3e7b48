package io.quantguard.registry;

import java.sql.SQLException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/**
 * The registry contract on PostgreSQL, when {@code QG_TEST_POSTGRES_URL} names a database (CI sets
 * it); each test gets a fresh schema, dropped afterwards.
 */
@EnabledIfEnvironmentVariable(named = Stores.POSTGRES_ENV, matches = "jdbc:postgresql:.+")
class PostgresRegistryTest extends RegistryContract {
  private final String schema = Stores.newSchemaName();

  @Override
  String newLocation() {
    return Stores.postgres(schema);
  }

  @AfterEach
  void dropSchema() throws SQLException {
    Stores.dropSchema(schema);
  }
}
