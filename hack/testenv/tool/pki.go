package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// keyPair is a certificate with its private key, PEM-encoded.
type keyPair struct {
	certPEM []byte
	keyPEM  []byte
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
}

// planePKI is everything one control plane needs to authenticate its parts to each other.
type planePKI struct {
	ca, serving, admin, controllerManager, scheduler, kwok keyPair
	serviceAccountKeyPEM, serviceAccountPubPEM             []byte
}

const certLifetime = 365 * 24 * time.Hour

func newPlanePKI(name string) (*planePKI, error) {
	ca, err := issue(nil, &x509.Certificate{
		Subject:               pkix.Name{CommonName: "flotilla-testenv-ca-" + name},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	})
	if err != nil {
		return nil, err
	}
	serving, err := issue(&ca, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "kube-apiserver"},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.96.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage:    x509.KeyUsageDigitalSignature,
	})
	if err != nil {
		return nil, err
	}
	client := func(cn string, orgs ...string) (keyPair, error) {
		return issue(&ca, &x509.Certificate{
			Subject:     pkix.Name{CommonName: cn, Organization: orgs},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
			KeyUsage:    x509.KeyUsageDigitalSignature,
		})
	}
	p := &planePKI{ca: ca, serving: serving}
	if p.admin, err = client("flotilla-testenv-admin", "system:masters"); err != nil {
		return nil, err
	}
	if p.controllerManager, err = client("system:kube-controller-manager"); err != nil {
		return nil, err
	}
	if p.scheduler, err = client("system:kube-scheduler"); err != nil {
		return nil, err
	}
	// kwok plays every kubelet of the plane's fake nodes, so it needs more than one node's rights.
	if p.kwok, err = client("kwok", "system:masters"); err != nil {
		return nil, err
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalECPrivateKey(saKey)
	if err != nil {
		return nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return nil, err
	}
	p.serviceAccountKeyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
	p.serviceAccountPubPEM = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	return p, nil
}

// issue signs template with parent, or self-signs it when parent is nil.
func issue(parent *keyPair, template *x509.Certificate) (keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return keyPair{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		return keyPair{}, err
	}
	template.SerialNumber = serial
	template.NotBefore = time.Now().Add(-time.Hour)
	template.NotAfter = time.Now().Add(certLifetime)
	signerCert, signerKey := template, key
	if parent != nil {
		signerCert, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, template, signerCert, &key.PublicKey, signerKey)
	if err != nil {
		return keyPair{}, fmt.Errorf("sign %s: %w", template.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return keyPair{}, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return keyPair{}, err
	}
	return keyPair{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		cert:    cert,
		key:     key,
	}, nil
}

// writeFiles stores the files the control-plane processes read by path.
func (p *planePKI) writeFiles(dir string) error {
	files := map[string][]byte{
		"ca.crt":        p.ca.certPEM,
		"ca.key":        p.ca.keyPEM,
		"apiserver.crt": p.serving.certPEM,
		"apiserver.key": p.serving.keyPEM,
		"sa.key":        p.serviceAccountKeyPEM,
		"sa.pub":        p.serviceAccountPubPEM,
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}
