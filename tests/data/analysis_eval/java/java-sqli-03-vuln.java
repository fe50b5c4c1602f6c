import java.util.List;
import javax.persistence.EntityManager;

class CustomerRepository {
    private final EntityManager em;

    CustomerRepository(EntityManager em) {
        this.em = em;
    }

    @SuppressWarnings("unchecked")
    List<Object[]> search(String namePrefix, String direction) {
        String q = "SELECT id, name, city FROM customers WHERE name LIKE '" + namePrefix + "%' ORDER BY name " + direction;
        return em.createNativeQuery(q).setMaxResults(100).getResultList();
    }
}
