package dev.switchboard.transport.tls;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * A certificate chain and its private key read from PEM files and checked before use: readable, the leaf valid now,
 * the key the leaf's own. A server must not start (nor a reload take effect) with a certificate every client would
 * refuse or a key that cannot complete a handshake; the message says which file and what is wrong.
 */
public record ServerCertificate(List<X509Certificate> chain, PrivateKey key) {

    public X509Certificate leaf() {
        return chain.getFirst();
    }

    public static ServerCertificate read(Path certFile, Path keyFile, Instant now) throws IOException {
        List<X509Certificate> chain;
        PrivateKey key;
        try {
            chain = readChain(certFile);
            key = readKey(keyFile);
        } catch (NoSuchFileException e) {
            throw new IOException(e.getFile() + " does not exist", e);
        } catch (AccessDeniedException e) {
            throw new IOException(e.getFile() + " cannot be read (permission denied)", e);
        }
        X509Certificate leaf = chain.getFirst();
        if (now.isAfter(leaf.getNotAfter().toInstant())) {
            throw new IOException("the certificate in " + certFile + " expired on " + leaf.getNotAfter().toInstant()
                    + " (" + leaf.getSubjectX500Principal().getName() + ")");
        }
        if (now.isBefore(leaf.getNotBefore().toInstant())) {
            throw new IOException("the certificate in " + certFile + " is not valid before "
                    + leaf.getNotBefore().toInstant() + " (" + leaf.getSubjectX500Principal().getName() + ")");
        }
        if (!signsFor(key, leaf.getPublicKey())) {
            throw new IOException("the key in " + keyFile + " does not belong to the certificate in " + certFile
                    + " (" + leaf.getSubjectX500Principal().getName() + ")");
        }
        return new ServerCertificate(chain, key);
    }

    private static List<X509Certificate> readChain(Path file) throws IOException {
        try (var in = Files.newInputStream(file)) {
            List<X509Certificate> chain = CertificateFactory.getInstance("X.509").generateCertificates(in).stream()
                    .map(X509Certificate.class::cast).toList();
            if (chain.isEmpty()) {
                throw new IOException(file + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
            }
            return chain;
        } catch (CertificateException e) {
            throw new IOException(file + " holds no readable PEM certificate: " + e.getMessage(), e);
        }
    }

    /** PKCS#8, or the older PKCS#1 (RSA) and SEC1 (EC) forms openssl writes; BouncyCastle reads all three. */
    private static PrivateKey readKey(Path file) throws IOException {
        Object parsed;
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser pem = new PEMParser(r)) {
            parsed = pem.readObject();
        } catch (RuntimeException e) {
            throw new IOException(file + " holds no readable PEM private key: " + e.getMessage(), e);
        }
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        if (parsed instanceof PrivateKeyInfo info) {
            return converter.getPrivateKey(info);
        }
        if (parsed instanceof PEMKeyPair pair) {
            return converter.getKeyPair(pair).getPrivate();
        }
        throw new IOException(file + " holds no unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)");
    }

    /** Whether a signature made with {@code key} verifies with {@code certified}: the key is the certificate's. */
    private static boolean signsFor(PrivateKey key, PublicKey certified) throws IOException {
        if (!key.getAlgorithm().equals(certified.getAlgorithm())) {
            return false;
        }
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> key.getAlgorithm(); // Ed25519, Ed448 sign by their own name
        };
        try {
            byte[] probe = new byte[32];
            new SecureRandom().nextBytes(probe);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certified);
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot check the key against the certificate: " + e.getMessage(), e);
        }
    }
}
