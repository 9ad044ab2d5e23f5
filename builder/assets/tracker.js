/* t8k analytics tracker: see README "Analytics". No cookies, no third parties. */
(function(d,w,n){var s=d.currentScript,e=s&&s.dataset.endpoint||"/api/beacon",h=location.hostname;
if(n.doNotTrack=="1"||w.doNotTrack=="1"||n.globalPrivacyControl)return;
if((h=="localhost"||/\.localhost$/.test(h)||h=="127.0.0.1")&&!(s&&s.dataset.local))return;
function send(v,x){var b={event:v,url:location.href},k;if(d.referrer)b.referrer=d.referrer;for(k in x)b[k]=x[k];b=JSON.stringify(b);
try{if(n.sendBeacon&&n.sendBeacon(e,b))return}catch(_){}fetch(e,{method:"POST",body:b,keepalive:true}).catch(function(){})}
send("PAGEVIEWED");
var t={};if(w.IntersectionObserver){var o=new IntersectionObserver(function(a){a.forEach(function(x){var i=x.target.dataset.pane,p=t[i]=t[i]||{v:0,s:0};
if(x.isIntersecting)p.s=p.s||Date.now();else if(p.s){p.v+=Date.now()-p.s;p.s=0}})},{threshold:.5});
d.querySelectorAll("[data-pane]").forEach(function(p){o.observe(p)});
setInterval(function(){var z=Date.now(),i,p,v;for(i in t){p=t[i];v=p.v+(p.s?z-p.s:0);
if(!p.g&&v>=7e3){p.g=1;send("GLOSSED",{pane:i})}if(!p.r&&v>=42e3){p.r=1;send("READ",{pane:i})}}},1e3)}
d.addEventListener("click",function(v){var a=v.target.closest&&v.target.closest("a[href],button");if(!a)return;
if(a.tagName=="A"){if(a.host!=location.host)send("CLICKED",{target:a.href})}else send("CLICKED",{target:(a.textContent||"").trim().slice(0,100)})},true)
})(document,window,navigator);
