import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;

class AccountDao {
    private final DataSource dataSource;

    AccountDao(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    long balanceOf(String accountNo) throws SQLException {
        try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
            ResultSet rs = st.executeQuery(
                "SELECT balance_cents FROM accounts WHERE account_no = '" + accountNo + "'");
            return rs.next() ? rs.getLong(1) : 0L;
        }
    }
}
