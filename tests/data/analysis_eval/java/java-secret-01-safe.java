import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

class ReportingDb {
    private static final String URL = "jdbc:postgresql://reports.internal:5432/warehouse";

    static Connection open() throws SQLException {
        String user = System.getenv("REPORTS_DB_USER");
        String password = System.getenv("REPORTS_DB_PASSWORD");
        if (user == null || password == null) {
            throw new IllegalStateException("REPORTS_DB_USER and REPORTS_DB_PASSWORD must be set");
        }
        return DriverManager.getConnection(URL, user, password);
    }
}
