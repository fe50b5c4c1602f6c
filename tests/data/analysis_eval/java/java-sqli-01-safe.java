import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import javax.sql.DataSource;

class AccountDao {
    private final DataSource dataSource;

    AccountDao(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    long balanceOf(String accountNo) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT balance_cents FROM accounts WHERE account_no = ?")) {
            ps.setString(1, accountNo);
            ResultSet rs = ps.executeQuery();
            return rs.next() ? rs.getLong(1) : 0L;
        }
    }
}
