# Derives the multi-page expected values for measure/*_test.cc, independently of the C++ code.
# The test keys in this folder were generated for igvmkit with `openssl ecparam -genkey`.
import hashlib, struct
def sha384(b): return hashlib.sha384(b).digest()
def snp(pages, ld=bytes(48)):
    for gpa,t,data in pages:
        c = sha384(data.ljust(4096,b'\0')) if t in (1,2) else bytes(48)
        ld = sha384(ld + c + struct.pack('<HBBBBBBQ', 0x70, t, 0, 0,0,0,0, gpa))
    return ld
def fill(i): return bytes([i+1])*4096
vmsa = bytearray(4096); vmsa[0x158:0x160]=struct.pack('<Q',0x31); vmsa[0x3B0:0x3B8]=struct.pack('<Q',1); vmsa[0x178:0x180]=struct.pack('<Q',0xfff0)
mixed = [(i*4096,1,fill(i)) for i in range(8)] + [(0x8000,4,b''),(0x9000,3,b''),(0xA000,5,b''),(0xB000,6,b''),(0xFFFFFFFFF000,2,bytes(vmsa)),(0xC000,1,b'igvmkit')]
print('snp mixed', snp(mixed).hex())
# parallel: 3000 pages
def pg(i):
    t = [1,1,1,4,1,2,3,5,6,1][i%10]
    n = [4096, 4096, 100, 0, 4096][i%5]
    data = (struct.pack('<Q', i) + bytes([(i*7)&0xff])*4088)[:n]
    return (i*4096, t, data)
print('snp 3000', snp([pg(i) for i in range(3000)]).hex())
# TDX
def tdx(ops):
    h=hashlib.sha384()
    for gpa,data,meas in ops:
        h.update(b'MEM.PAGE.ADD'.ljust(16,b'\0')+struct.pack('<Q',gpa)+bytes(104))
        if meas:
            p=data.ljust(4096,b'\0')
            for k in range(16):
                h.update(b'MR.EXTEND'.ljust(16,b'\0')+struct.pack('<Q',gpa+k*256)+bytes(104)+p[k*256:(k+1)*256])
    return h.hexdigest()
d=b'\x00\x05'
ovm=[(0,d,True)]+[(i*4096,b'',True) for i in range(1,5)]+[(i*4096,b'',False) for i in range(5,10)]+[(40960,d,True)]
print('tdx openvmm-no-reset', tdx(ovm))
print('tdx mixed', tdx([(i*4096,fill(i),i%3!=1) for i in range(6)]+[(0x14000,b'',False),(0xFFFFF000,b'\xcc'*100,True)]))
# VBS
def vbs(recs):
    dd=bytes(32)
    for r in recs: dd=hashlib.sha256(dd+r).digest()
    return dd
def vpage(gpa, data, acc, unm):
    return struct.pack('<IIQQQ',4128,2,0,acc|(4 if unm else 0),gpa//4096)+(bytes(4096) if unm else data.ljust(4096,b'\0'))
def vreg(vtl,name,val):
    return struct.pack('<IIQIBBHII',48,0,0,0,vtl,0,0,0,name)+val
recs=[vpage(0,d,0,False)]+[vpage(i*4096,b'',0,False) for i in range(1,5)]+[vpage(i*4096,b'',0,True) for i in range(5,10)]+[vpage(40960,d,0,False)]
recs += [vpage(0x100000+i*4096,b'',3,True) for i in range(3)]   # ERROR_RANGE 0x2001 bytes -> 3 pages
recs += [vpage(0x14000,b'',0,True)]                              # PARAMETER_INSERT one page
recs += [vreg(0,0x00020010,struct.pack('<Q',0xfff0)+bytes(8)),
         vreg(0,0x00060001,struct.pack('<QIHH',0xffff0000,0xffff,0xf000,0x9b)),
         vreg(2,0x00070001,struct.pack('<HHHHQ',0,0,0,0x27,0x1000))]
print('vbs regs', vbs(recs).hex())
# SEV
print('sev', hashlib.sha256(b'\x00\x05'+fill(0)+b'abc').hexdigest())
print('sev-es', hashlib.sha256(b'\x00\x05'+fill(0)+b'abc'+bytes(vmsa)+bytes(4096)).hexdigest())
# SNP key digests (SHA-384 of the 0x404-byte public-key structure) of the test keys, with the
# point read by the openssl CLI: run from measure/testdata.
import subprocess
for k in ['id_key.pem','author_key.pem']:
    der = subprocess.run(['openssl','ec','-in',k,'-pubout','-outform','DER'],capture_output=True).stdout
    pt = der[-97:]; assert pt[0]==4
    x, y = pt[1:49], pt[49:97]
    st = (struct.pack('<I',2) + x[::-1].ljust(72,b'\0') + y[::-1].ljust(72,b'\0')).ljust(0x404,b'\0')
    print(k, hashlib.sha384(st).hexdigest())
# SnpHostMeasurement scenarios (snp_host_test.cc).
def vm(rip):
    v = bytearray(4096); v[0x158:0x160]=struct.pack('<Q',0x31); v[0x3B0:0x3B8]=struct.pack('<Q',1); v[0x178:0x180]=struct.pack('<Q',rip)
    return bytes(v)
V0, V1 = vm(0xfff0), vm(0x1000)
K = 0xFFFFFFFFF000
common = [(0,1,b'boot'),(0x1000,5,b''),(0x2000,6,b'x'*16)]
kvm3 = common + [(0x3000,1,b''),(0x14000,4,b''),(0x15000,4,b''),(0x4000,4,b''),(K,2,V0),(K,2,V1),(K,2,V0)]
print('host kvm vcpus=3', snp(kvm3).hex())
kvm1 = common + [(0x3000,1,b''),(0x14000,4,b''),(0x15000,4,b''),(0x4000,4,b''),(K,2,V0)]
print('host kvm vcpus=1', snp(kvm1).hex())
mshv = common + [(0x803000,2,V0),(0x14000,4,b''),(0x15000,4,b''),(0x804000,2,V1),(0x4000,4,b'')]
print('host mshv', snp(mshv).hex())
d=b'\x00\x05'
ovk=[(0,1,d)]+[(i*4096,1,b'') for i in range(1,5)]+[(i*4096,4,b'') for i in range(5,10)]+[(10*4096,1,d),(20*4096,1,b'')]
print('openvmm pages on kvm (shared page measured)', snp(ovk).hex())
