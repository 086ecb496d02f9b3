package dev.switchboard.transport.tls;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A local development CA and a certificate for {@code localhost}, {@code 127.0.0.1} and {@code ::1} signed by it
 * (EC P-256), made with BouncyCastle: {@code switchboard cert dev} writes them, tests make their own (expired ones
 * too). Trust {@code ca.pem} in a browser or client to call the server without certificate errors; never in
 * production.
 */
public final class DevCertificates {
    public static final Duration DEFAULT_VALIDITY = Duration.ofDays(365);

    private final X509Certificate ca;
    private final X509Certificate leaf;
    private final KeyPair leafKeys;

    private DevCertificates(X509Certificate ca, X509Certificate leaf, KeyPair leafKeys) {
        this.ca = ca;
        this.leaf = leaf;
        this.leafKeys = leafKeys;
    }

    /** A CA and localhost certificate valid for {@link #DEFAULT_VALIDITY} from a minute ago. */
    public static DevCertificates create() {
        Instant now = Instant.now();
        return create(now.minus(Duration.ofMinutes(1)), now.plus(DEFAULT_VALIDITY));
    }

    /** A new CA and a localhost certificate, both valid from {@code notBefore} to {@code notAfter}. */
    public static DevCertificates create(Instant notBefore, Instant notAfter) {
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            KeyPair caKeys = newKeys();
            X500Name caName = new X500Name("CN=Switchboard development CA " + Instant.now().getEpochSecond());
            X509Certificate ca = sign(new JcaX509v3CertificateBuilder(caName, serial(), Date.from(notBefore),
                    Date.from(notAfter), caName, caKeys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            ext.createSubjectKeyIdentifier(caKeys.getPublic())), caKeys);

            KeyPair leafKeys = newKeys();
            GeneralNames names = new GeneralNames(new GeneralName[] {
                new GeneralName(GeneralName.dNSName, "localhost"),
                new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                new GeneralName(GeneralName.iPAddress, "::1")});
            X509Certificate leaf = sign(new JcaX509v3CertificateBuilder(ca, serial(), Date.from(notBefore),
                    Date.from(notAfter), new X500Name("CN=localhost"), leafKeys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
                    .addExtension(Extension.subjectAlternativeName, false, names)
                    .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            ext.createSubjectKeyIdentifier(leafKeys.getPublic())), caKeys);
            return new DevCertificates(ca, leaf, leafKeys);
        } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
            throw new IllegalStateException("cannot make development certificates: " + e.getMessage(), e);
        }
    }

    public X509Certificate ca() {
        return ca;
    }

    public X509Certificate leaf() {
        return leaf;
    }

    /** {@code ca.pem}, {@code cert.pem} (the localhost certificate) and {@code key.pem} (its key, owner-only). */
    public void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("ca.pem"), pem(ca), StandardCharsets.US_ASCII);
        writeCertificate(dir.resolve("cert.pem"));
        writeKey(dir.resolve("key.pem"));
    }

    public void writeCertificate(Path file) throws IOException {
        Files.writeString(file, pem(leaf), StandardCharsets.US_ASCII);
    }

    public void writeKey(Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, pem(new JcaPKCS8Generator(leafKeys.getPrivate(), null)), StandardCharsets.US_ASCII);
        // atomic: a plain move over an existing file deletes it first, and a watcher could find no key for a moment
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static String pem(Object o) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(o);
        }
        return out.toString();
    }

    private static KeyPair newKeys() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static BigInteger serial() {
        return new BigInteger(127, new SecureRandom()).add(BigInteger.ONE);
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair issuer)
            throws OperatorCreationException, GeneralSecurityException {
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuer.getPrivate())));
    }
}
