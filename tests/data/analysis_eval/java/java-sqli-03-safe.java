import java.util.List;
import javax.persistence.EntityManager;

class CustomerRepository {
    private final EntityManager em;

    CustomerRepository(EntityManager em) {
        this.em = em;
    }

    @SuppressWarnings("unchecked")
    List<Object[]> search(String namePrefix, String direction) {
        String dir = "desc".equalsIgnoreCase(direction) ? "DESC" : "ASC";
        String q = "SELECT id, name, city FROM customers WHERE name LIKE ?1 ORDER BY name " + dir;
        return em.createNativeQuery(q).setParameter(1, namePrefix + "%").setMaxResults(100).getResultList();
    }
}
