package dev.switchboard.groups;

/**
 * One message of a group that is not done: held by {@code member} until {@code expires} (wall-clock ms), delivered
 * {@code deliveries} times. A lease with no member is waiting to be delivered (again).
 */
record Lease(String member, long expires, int deliveries) {
    static Lease released(int deliveries) {
        return new Lease(null, 0, deliveries);
    }

    boolean held() {
        return member != null;
    }
}
