import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

class ReportingDb {
    private static final String URL = "jdbc:postgresql://reports.internal:5432/warehouse";
    private static final String USER = "report_writer";
    private static final String PASSWORD = "Wh-2023!rep0rts";

    static Connection open() throws SQLException {
        return DriverManager.getConnection(URL, USER, PASSWORD);
    }
}
